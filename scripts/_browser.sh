# Sourced by scripts/test: make sure headless Chromium and its driver are installed from the
# operating system's packages (Debian: `chromium`, `chromium-driver`), for the wallboard's browser
# test (tests/e2e/test_wallboard_browser.py). Installs them only when one is missing, without
# questions, as root or through `sudo -n`; otherwise says why, and the test skips with the reason.
set -euo pipefail
CHROMIUM="${HOTLINE_CHROMIUM:-/usr/bin/chromium}"
CHROMEDRIVER="${HOTLINE_CHROMEDRIVER:-/usr/bin/chromedriver}"
BROWSER_PACKAGES=(chromium chromium-driver)

_browser_missing() {
  [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ]
}

_browser_install() {
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "not root and no password-less sudo" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get (not a Debian-like system)" >&2
    return 1
  fi
  echo "scripts/test: installing ${BROWSER_PACKAGES[*]} for the wallboard's browser test" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${BROWSER_PACKAGES[@]}" >/dev/null
}

if _browser_missing; then
  if ! _browser_install || _browser_missing; then
    echo "scripts/test: ${CHROMIUM} or ${CHROMEDRIVER} is missing and could not be installed" \
      "(see above): the wallboard's browser test will be skipped." \
      "Install the Debian packages ${BROWSER_PACKAGES[*]} to run it." >&2
  fi
fi
