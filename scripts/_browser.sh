# Sourced by scripts/test: the browser tests drive Debian's Chromium (Playwright cannot download browsers here).
if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian chromium for the browser tests ..." >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null || \
        { echo "chromium could not be installed with apt-get: the browser tests need it" >&2; exit 1; }
fi
