#!/usr/bin/env bash
# Install Debian's Android build tools the ROM-build test fixtures use, idempotently (safe on every CI start):
#   aapt (package an APK), zipalign, apksigner (sign it), android-framework-res (framework-res.apk for aapt -I).
# Checking builds needs none of them (the harness reads APKs in Python); only tests/fixtures/make_builds.py does.
# Exit: 0 ready; 1 missing and not root (message says what to install).
set -euo pipefail
missing=()
command -v aapt >/dev/null || missing+=(aapt)
command -v zipalign >/dev/null || missing+=(zipalign)
command -v apksigner >/dev/null || missing+=(apksigner)
[ -f /usr/share/android-framework-res/framework-res.apk ] || missing+=(android-framework-res)
if [ "${#missing[@]}" = 0 ]; then
    echo "android tools: present (aapt, zipalign, apksigner, framework-res.apk)"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "setup_android_tools: missing ${missing[*]} and not root: install the Debian package(s) by hand" >&2
    exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "android tools: installed ${missing[*]}"
