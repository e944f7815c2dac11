// Filters hide matrices, columns and cells; a click on a cell shows its message.
"use strict";

function checked(name) {
  return Array.from(document.querySelectorAll(`input[name="${name}"]:checked`)).map(i => i.value);
}

function applyFilters() {
  const impls = checked("implementation"), releases = checked("release");
  const families = checked("family"), outcomes = checked("outcome");
  document.querySelectorAll("[data-matrix]").forEach(section => {
    const shown = impls.includes(section.dataset.implementation) &&
                  releases.includes(section.dataset.release);
    section.classList.toggle("hidden", !shown);
  });
  document.querySelectorAll("[data-family]").forEach(el => {
    el.classList.toggle("hidden", !families.includes(el.dataset.family));
  });
  document.querySelectorAll("td.cell").forEach(cell => {
    cell.style.visibility = outcomes.includes(cell.dataset.outcome) ? "" : "hidden";
  });
}

function showDetail(cell) {
  document.querySelectorAll("td.cell.selected").forEach(c => c.classList.remove("selected"));
  cell.classList.add("selected");
  const detail = document.getElementById("detail");
  detail.textContent = `${cell.dataset.title}\n${cell.dataset.message}`;
  detail.classList.remove("hidden");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#filters input").forEach(i => i.addEventListener("change", applyFilters));
  document.querySelectorAll("td.cell").forEach(c => c.addEventListener("click", () => showDetail(c)));
  applyFilters();
});
