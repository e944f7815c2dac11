# Sourced by the bin/ commands: install what the harness needs, once.
#
# Debian packages through apt-get, only when missing; Python packages in
# .venv (tox, and this checkout installed editable with the extras that
# pyproject.toml names), redone when pyproject.toml changes.
# A completed bootstrap leaves a stamp in .venv. While the stamp matches
# pyproject.toml and this script, later calls skip the full check: its
# python3 probe cost bin/qcow2-snapshot about 0.1 s on every snapshot.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
BOOTSTRAP_STAMP="$VENV/.bootstrap"

# What a completed bootstrap vouches for depends on these two files only.
bootstrap_key() {
    cat "$ROOT/pyproject.toml" "$ROOT/bin/bootstrap.sh" | sha256sum
}

# True when the stamp is current and what the bootstrap installed is still
# there. Builtins and one hash only: no python3 starts.
bootstrap_done() {
    local stamp
    [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/tox" ] || return 1
    command -v qemu-img >/dev/null && command -v qemu-io >/dev/null \
        && command -v qemu-storage-daemon >/dev/null || return 1
    command -v nbdinfo >/dev/null && command -v nbdcopy >/dev/null || return 1
    read -r stamp 2>/dev/null <"$BOOTSTRAP_STAMP" || return 1
    [ "$stamp" = "$(bootstrap_key)" ]
}

missing_packages() {
    command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || echo qemu-utils
    command -v qemu-storage-daemon >/dev/null || echo qemu-system-common
    # nbdinfo, nbdcopy: the NBD client a lifecycle's backups are read with.
    command -v nbdinfo >/dev/null && command -v nbdcopy >/dev/null || echo libnbd-bin
    command -v python3 >/dev/null || echo python3
    python3 -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv
}

install_packages() {
    local packages
    packages=$(missing_packages | sort -u | tr '\n' ' ')
    [ -z "${packages// /}" ] && return 0
    apt_install $packages
}

# apt_install PACKAGE... : install Debian packages (as root) that are missing.
apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "bootstrap: missing Debian packages: $*; install them (as root: apt-get install $*)" >&2
        exit 2
    fi
    echo "bootstrap: installing $*" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_venv() {
    local stamp="$VENV/.requirements"
    if [ -x "$VENV/bin/tox" ] && cmp -s "$ROOT/pyproject.toml" "$stamp"; then
        return 0
    fi
    echo "bootstrap: preparing $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check tox -e "$ROOT[generate]"
    cp "$ROOT/pyproject.toml" "$stamp"
}

if ! bootstrap_done; then
    install_packages
    install_venv
    bootstrap_key >"$BOOTSTRAP_STAMP"
fi
cd "$ROOT"
