# Cross-build for 64-bit ARM Linux (phones, Graviton, ARM laptops) with Debian's
# g++-aarch64-linux-gnu. Target libraries are Debian's multiarch arm64 packages
# (libfoo-dev:arm64, in /usr/lib/aarch64-linux-gnu), which this compiler searches by
# default; header-only ones (nlohmann-json, CLI11) are shared with the host.
#   cmake -S . -B build-aarch64 -G Ninja --toolchain cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Programs come from the host; libraries and packages from the target's directories first.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config must read the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

# Lets CMake (gtest_discover_tests, ctest) and the tests' CLI launcher run target binaries.
# With libc6:arm64 installed, the arm64 loader and libraries sit at their multiarch paths
# on the host, so qemu-user needs no -L prefix.
find_program(TANDEM_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(TANDEM_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${TANDEM_QEMU_AARCH64}")
endif()
