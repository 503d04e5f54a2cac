# Sourced by setup.sh and test-aarch64.sh: installing the Debian packages a script needs, and
# proving that the binaries it built need nothing else.

# What setup.sh installs to build Tandem and run its native tests.
tandem_packages=(g++ cmake ninja-build pkg-config nlohmann-json3-dev libutf8proc-dev libcli11-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcpp-httplib-dev libsqlite3-dev libssl-dev libpng-dev time
  libpoppler-cpp-dev libxml2-dev  # the assistant's document readers: PDF text (poppler) and HTML text (libxml2)
  libedit-dev    # line editing and history in `tandem chat`
  clang          # libFuzzer harnesses (tests/fuzz/*_fuzzer.cpp, scripts/fuzz.sh)
  chromium fonts-noto-cjk)  # the chat page test drives chromium headless (playwright-core from npm); CJK glyphs
# Node.js runs the end-to-end client tests (the official openai npm package); keep a newer one if present.
command -v node >/dev/null || tandem_packages+=(nodejs)
command -v npm >/dev/null || tandem_packages+=(npm)

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# install_packages PKG...: installs those that dpkg does not report installed. Recommends are
# left out, so a script works only if its own list is complete.
install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# check_runtime_packages TRIPLET READELF "PKG ..." BINARY...: fails unless every shared library
# the binaries load (their DT_NEEDED) is shipped by a package in the dependency closure of the
# listed packages. A library that is on this machine only because someone once installed it by
# hand (libstdc++6:arm64, which hid a fresh-machine failure) is an error that names its package,
# here, instead of a "cannot open shared object file" on the next new machine.
check_runtime_packages() {
  local triplet=$1 readelf=$2 listed=$3
  shift 3
  local closure sonames so dir path owner failed=0
  # shellcheck disable=SC2086  # $listed is a word list on purpose
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $listed | grep -v '^ ' | tr -d '<>' | sort -u)
  sonames=$(for b in "$@"; do "$readelf" -d "$b"; done | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
  local native_arch
  native_arch=$(dpkg --print-architecture)
  for so in $sonames; do
    owner=""
    for dir in "/lib/$triplet" "/usr/lib/$triplet" /lib /usr/lib; do
      [ -e "$dir/$so" ] || continue
      # dpkg knows a file by the path its package shipped; with merged /usr that may be the
      # /lib or the /usr/lib spelling, of the link or of its target.
      for path in "$dir/$so" "$(readlink -f "$dir/$so")"; do
        for alias in "$path" "${path#/usr}" "/usr${path}"; do
          owner=$(dpkg -S "$alias" 2>/dev/null | head -n1 | cut -d: -f1-2 | sed 's/: .*//') && [ -n "$owner" ] && break 3
        done
      done
    done
    if [ -z "$owner" ]; then
      echo "packages: no installed package provides $so (needed by the $triplet build)" >&2
      failed=1
      continue
    fi
    owner=${owner%:"$native_arch"}
    if ! grep -qxF "$owner" <<<"$closure"; then
      echo "packages: $so comes from $owner, which is not in the script's package list nor a" \
        "dependency of it (a fresh machine would lack it): add $owner to the list" >&2
      failed=1
    fi
  done
  return $failed
}
