#!/usr/bin/env bash
# Install what the reports need, idempotently (safe to run on every CI start):
#   1. the pinned Allure 2 generator: `npm ci` in tools/report_toolchain (package-lock.json; npm registry only);
#   2. a Java runtime for it (Debian openjdk-17-jre-headless) if `java` is missing and we are root;
#   3. Debian's Chromium (/usr/bin/chromium) for the browser tests and screenshots, if missing and we are root.
# Never downloads a browser or JDK build of its own; only npm and apt registries are used.
# Exit: 0 ready; 1 a step failed (message says which and how to fix).
set -euo pipefail
export NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false  # no "New minor version of npm" banner in job output

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tc="$here/report_toolchain"
is_root=0; [ "$(id -u)" = "0" ] && is_root=1
apt_updated=0
apt_install() {
    if [ "$is_root" != 1 ]; then
        echo "setup_report_toolchain: $1 missing and not root: install Debian package(s) ${*:2} by hand" >&2
        return 1
    fi
    if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${@:2}" >/dev/null
}

# 1. Allure 2 generator (skip when node_modules already matches the lock file).
if ! command -v npm >/dev/null; then
    apt_install npm nodejs npm || exit 1
fi
lock="$tc/package-lock.json"; stamp="$tc/node_modules/.package-lock.json"
if [ -x "$tc/node_modules/.bin/allure" ] && [ -f "$stamp" ] && \
   [ "$(node -e 'const l=require(process.argv[1]);console.log(JSON.stringify(l.packages["node_modules/allure-commandline"]))' "$lock")" = \
     "$(node -e 'const l=require(process.argv[1]);console.log(JSON.stringify(l.packages["node_modules/allure-commandline"]))' "$stamp")" ]; then
    echo "allure generator: up to date ($tc/node_modules)"
else
    (cd "$tc" && npm ci --no-audit --no-fund --loglevel=error)
    echo "allure generator: installed ($tc/node_modules)"
fi

# 2. Java for Allure 2.
if command -v java >/dev/null || { [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; }; then
    echo "java: present"
else
    apt_install java openjdk-17-jre-headless || exit 1
    echo "java: installed"
fi

# 3. Chromium for the browser tests.
if [ -x /usr/bin/chromium ]; then
    echo "chromium: present"
else
    apt_install chromium chromium || { echo "chromium: browser tests will be skipped" >&2; }
    [ -x /usr/bin/chromium ] && echo "chromium: installed"
fi
"$tc/node_modules/.bin/allure" --version >/dev/null && echo "allure $("$tc/node_modules/.bin/allure" --version): ready"
