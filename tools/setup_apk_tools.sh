#!/usr/bin/env bash
# Install the Debian Android SDK tools that build and sign the fixture APKs, then build them; idempotent.
#   aapt, zipalign, apksigner (pulls a Java runtime) and android-framework-res (framework-res.apk for aapt -I).
# The fixture APKs (virtual_device/apk_fixtures.py) are what the virtual devices serve for the signer check;
# their build is skipped when up to date. Only Debian's apt registry is used.
# Usage: bash tools/setup_apk_tools.sh [PYTHON]   (PYTHON defaults to .venv/bin/python)
# Exit: 0 ready; 1 a step failed (the message says which and how to fix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python="${1:-.venv/bin/python}"
packages=(aapt apksigner zipalign android-framework-res)
missing=()
for tool in aapt apksigner zipalign; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -f /usr/share/android-framework-res/framework-res.apk ] || missing+=(android-framework-res)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != "0" ]; then
        echo "setup_apk_tools: missing ${missing[*]} and not root: run \`apt-get install -y ${packages[*]}\` as root" >&2
        exit 1
    fi
    echo "setup_apk_tools: installing ${missing[*]} (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
echo "apk tools: aapt zipalign apksigner android-framework-res present"
"$python" -m virtual_device build-apks >/dev/null
echo "fixture APKs: ready ($("$python" -c 'from virtual_device.apk_fixtures import apk_dir; print(apk_dir())'))"
