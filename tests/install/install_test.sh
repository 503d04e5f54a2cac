#!/usr/bin/env bash
# ctest capi_install_pkgconfig: `cmake --install` into a temporary prefix, then an app that
# knows only tandem.h is built against it twice, with plain cc through pkg-config and with
# CMake's find_package(tandem), and run on stories260K.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR SHARED_DIR C_COMPILER
set -euo pipefail
build=$(cd "$1" && pwd) source=$(cd "$2" && pwd) shared=$(cd "$3" && pwd) cc=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name tandem.pc)
[ -n "$pc" ] || { echo "no tandem.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")

# shellcheck disable=SC2046  # the flags are words on purpose
"$cc" -std=c99 -Wall -Werror -o "$work/app" "$source/tests/install/routed_chat_app.c" $(pkg-config --cflags --libs tandem)
"$work/app" "$shared/models/stories260K.gguf" | tee "$work/out.txt"
grep -q '^ALL OK$' "$work/out.txt"

mkdir "$work/cmake-app"
cat >"$work/cmake-app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(tandem REQUIRED)
add_executable(app "$source/tests/install/routed_chat_app.c")
target_link_libraries(app PRIVATE tandem::tandem)
CMAKE
cmake -S "$work/cmake-app" -B "$work/cmake-app/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake-app/build" >/dev/null
"$work/cmake-app/build/app" "$shared/models/stories260K.gguf" | grep -q '^ALL OK$'
echo "installed Tandem works through pkg-config and find_package"
