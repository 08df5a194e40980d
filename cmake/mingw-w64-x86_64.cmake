# Cross-compile tofu for 64-bit Windows with MinGW-w64 and run its tests under Wine.
#
#   cmake -S . -B build/win -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake -DTOFU_BACKEND=iocp_afd
#
# ctest then starts every test .exe through CMAKE_CROSSCOMPILING_EMULATOR, so
# the same ctest invocation works for the Linux and the Windows builds.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(TOFU_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${TOFU_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${TOFU_MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${TOFU_MINGW_PREFIX}-windres)

# Look for libraries and headers only in the MinGW sysroot and in the prefixes
# the caller names in CMAKE_PREFIX_PATH (e.g. check built for MinGW); never
# pick up the build machine's Linux libraries. A prefix listed as a root path
# is searched as it is, not re-rooted under the sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/${TOFU_MINGW_PREFIX} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained executables: Wine (and a bare Windows box) then needs no
# MinGW runtime DLLs (libgcc, libwinpthread) next to each test.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Windows 10 is the floor (AF_UNIX needs build 17063).
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00")

# A launcher given on the command line (ci/test-windows-wine.sh gives
# ci/wine-test.sh) is kept; by default the tests run under wine itself.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(TOFU_WINE NAMES wine wine64 REQUIRED)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TOFU_WINE})
endif()
