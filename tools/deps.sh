#!/bin/sh
# deps.sh [--list] build|test|bench|fuzz|deb — install the Debian/Ubuntu packages a make target
# needs and the machine lacks. Installs nothing when everything is there; uses sudo when not
# root. --list prints the packages instead.
set -eu
list=
[ "${1:-}" = --list ] && { list=1; shift; }

build="gcc make pkg-config libmicrohttpd-dev libsystemd-dev zlib1g-dev libpcre2-dev uthash-dev libcrypt-dev libgnutls28-dev libyaml-dev"
test="$build build-essential debhelper dpkg-dev lintian libcmocka-dev prometheus prometheus-node-exporter curl wrk python3 python3-yaml valgrind systemd gnutls-bin clang libclang-rt-14-dev man-db procps strace libc6-dev git chromium time"
bench="$build prometheus-process-exporter prometheus curl python3 wrk git"
fuzz="$build clang libclang-rt-14-dev"
# the Debian package: its Build-Depends (debian/control) and what builds and checks it
deb="$build build-essential debhelper dpkg-dev lintian"

case "${1:-}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
fuzz) want=$fuzz ;;
deb) want=$deb ;;
*) echo "usage: $0 build|test|bench|fuzz|deb" >&2; exit 2 ;;
esac

[ -n "$list" ] && { echo "$want"; exit 0; }

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian-like system; install the equivalents of: $want" >&2
	exit 0
fi

missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing"
sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps.sh: need root (or sudo) to install:$missing" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
