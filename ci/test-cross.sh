#!/usr/bin/env bash
# The cross leg: build tofu for the platforms this machine cannot run, with
# Zig's C compiler (`zig cc`, clang with each target's libc headers), with
# -Werror as every build: macOS on x86_64 and arm64 and FreeBSD on x86_64
# (poll backend, the pipe wakeup), and Windows on x86_64 (iocp_afd backend,
# MinGW-w64's headers and Zig's own MinGW runtime: a second compiler beside
# MinGW GCC). For each target it builds the static library, the shared
# library and the example programs, checks that each output is a binary of
# the target, and checks which socket macros the platform layer sees in the
# target's headers (the table `facts` below); for Windows, that libtofu.dll
# imports only system DLLs (ci/check-dll-imports.sh). Nothing is run: a build
# proves that the code compiles and links against the target's headers and
# libc, not how the target behaves (docs/layering.md, "The cross leg").
#
# Usage: ci/test-cross.sh [target ...]   (default: every target below)
#   build/cross/<target>   each target's build directory, made afresh
#   build/cross/zig-cache  Zig's cache, kept between runs: with it empty, Zig
#                          first builds the targets' C runtimes from source
#                          (MinGW-w64's above all: about 5 of the 7 minutes
#                          of a first run on two busy cores; a rerun takes
#                          under a minute)
# Prints one line per target with what was built; exits non-zero on any
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# target triple -> CMAKE_SYSTEM_NAME, CMAKE_SYSTEM_PROCESSOR
declare -A system=(
  [x86_64-macos]=Darwin [aarch64-macos]=Darwin
  [x86_64-freebsd]=FreeBSD
  [x86_64-windows-gnu]=Windows
)
declare -A processor=(
  [x86_64-macos]=x86_64 [aarch64-macos]=arm64
  [x86_64-freebsd]=x86_64
  [x86_64-windows-gnu]=AMD64
)
# What the socket code of common/platform/posix/net.c must see of each POSIX
# target's headers: 1 defined, 0 not. Darwin has SO_NOSIGPIPE and (in every
# SDK Zig ships) MSG_NOSIGNAL, but no SOCK_CLOEXEC; FreeBSD has all three.
# A feature macro that hid one of them would turn the code silently to its
# fallback: this table makes that a failure.
declare -A facts=(
  [Darwin]="SOCK_CLOEXEC=0 MSG_NOSIGNAL=1 SO_NOSIGPIPE=1"
  [FreeBSD]="SOCK_CLOEXEC=1 MSG_NOSIGNAL=1 SO_NOSIGPIPE=1"
)
all=(x86_64-macos aarch64-macos x86_64-freebsd x86_64-windows-gnu)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -n "${system[$t]:-}" ] || { echo "ci/test-cross.sh: unknown target '$t' (known: ${all[*]})" >&2; exit 2; }
done

bash ci/setup-debian.sh file
bin=$(bash ci/setup-pytools.sh zig)
zig=$("$bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
zig_version=$("$zig" version)
export ZIG_GLOBAL_CACHE_DIR=$ROOT/build/cross/zig-cache
export ZIG_LOCAL_CACHE_DIR=$ZIG_GLOBAL_CACHE_DIR
jobs=2

# <dir> <target>: wrappers for the compiler and the archiver, since CMake wants
# one program per tool and `zig cc -target T` is a program and three words.
wrappers() {
  mkdir -p "$1/zig"
  printf '#!/bin/sh\nexec "%s" cc -target %s "$@"\n' "$zig" "$2" >"$1/zig/cc"
  printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" >"$1/zig/ar"
  printf '#!/bin/sh\nexec "%s" ranlib "$@"\n' "$zig" >"$1/zig/ranlib"
  chmod +x "$1/zig/cc" "$1/zig/ar" "$1/zig/ranlib"
}

# <dir> <system>: the socket macros net.c sees, preprocessed with its own
# compile command, against the table above.
check_facts() {
  local dir=$1 sys=$2 cmd macros fact name want got bad=0 seen=()
  cmd=$("$bin/python" - "$dir/compile_commands.json" <<'EOF'
import json, shlex, sys
for c in json.load(open(sys.argv[1])):
    if c["file"].endswith("common/platform/posix/net.c"):
        args = shlex.split(c["command"])
        out = []
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MT", "-MQ"):
                skip = True
                continue
            if a in ("-c", "-MD", "-MMD"):
                continue
            out.append(a)
        print(shlex.join(out + ["-E", "-dM"]))
        break
EOF
)
  [ -n "$cmd" ] || { echo "ci/test-cross.sh: no compile command for net.c in $dir" >&2; return 1; }
  macros=$(cd "$dir" && eval "$cmd")
  for fact in ${facts[$sys]}; do
    name=${fact%=*} want=${fact#*=}
    got=0
    grep -q "^#define $name " <<<"$macros" && got=1
    seen+=("$name=$got")
    if [ "$got" != "$want" ]; then
      echo "ci/test-cross.sh: net.c sees $name $([ "$got" = 1 ] && echo defined || echo undefined)" \
        "for $sys, expected $([ "$want" = 1 ] && echo defined || echo undefined)" >&2
      bad=1
    fi
  done
  fact_line="${seen[*]}"
  return $bad
}

# <dir> <target>: every output exists and is a binary for the target (file(1)
# reads the format and the machine), so a wrapper that fell back to the
# build machine's compiler cannot pass.
programs=(tofu-echo-server tofu-echo-client tofu-demo tofu-hello tofu-client)
check_outputs() {
  local dir=$1 t=$2 exe="" pattern shared_pattern want f desc
  case ${system[$t]} in
  Darwin)
    shared_name=libtofu.dylib
    pattern="Mach-O 64-bit ${processor[$t]} executable"
    shared_pattern="Mach-O 64-bit ${processor[$t]} dynamically linked shared library"
    ;;
  FreeBSD) # a FreeBSD shared object carries no ABI note; its executables do
    shared_name=libtofu.so
    pattern="ELF 64-bit LSB (pie )?executable, x86-64, .*for FreeBSD"
    shared_pattern="ELF 64-bit LSB shared object, x86-64"
    ;;
  Windows)
    shared_name=libtofu.dll exe=.exe
    pattern="PE32\+ executable \(console\) x86-64"
    shared_pattern="PE32\+ executable \(DLL\) .*x86-64"
    ;;
  esac
  [ -f "$dir/libtofu.a" ] || { echo "ci/test-cross.sh: $t: no libtofu.a" >&2; return 1; }
  for f in "$shared_name" "${programs[@]/#/examples/}"; do
    want=$shared_pattern
    [ "$f" = "$shared_name" ] || { f=$f$exe want=$pattern; }
    desc=$(file -L "$dir/$f" 2>&1)
    if ! grep -qE "$want" <<<"$desc"; then
      echo "ci/test-cross.sh: $t: $f is not a $t binary: $desc" >&2
      return 1
    fi
  done
  format_seen=$(file -L "$dir/examples/tofu-demo$exe" | sed 's/^[^:]*: //; s/,.*//')
}

# <target>: configure, build (ninja -k 0: every error of the target, not
# just the first) and check one target; its summary line goes to
# build/cross/<target>.summary.
build_target() {
  local t=$1 t0=$SECONDS sys=${system[$1]} dir=build/cross/$1 backend
  rm -rf "$dir"
  wrappers "$dir" "$t"
  echo "=== ci/test-cross.sh: $t ($sys), zig cc $zig_version ($dir) ==="
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_SYSTEM_NAME="$sys" -DCMAKE_SYSTEM_PROCESSOR="${processor[$t]}" \
    -DCMAKE_C_COMPILER="$ROOT/$dir/zig/cc" -DCMAKE_AR="$ROOT/$dir/zig/ar" \
    -DCMAKE_RANLIB="$ROOT/$dir/zig/ranlib" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DTOFU_WERROR=ON -DTOFU_BUILD_TESTS=OFF -DTOFU_BUILD_BENCH=OFF -DTOFU_BUILD_EXAMPLES=ON
  cmake --build "$dir" -j "$jobs" -- -k 0
  backend=$(sed -n 's/^TOFU_BACKEND_RESOLVED:INTERNAL=//p' "$dir/CMakeCache.txt")
  fact_line="-"
  if [ -n "${facts[$sys]:-}" ]; then
    check_facts "$dir" "$sys"
  fi
  check_outputs "$dir" "$t"
  if [ "$sys" = Windows ]; then
    # The build machine's binutils read PE files as well as MinGW's do.
    OBJDUMP=objdump NM=nm bash ci/check-dll-imports.sh "$dir"
  fi
  echo "$t: $backend backend; built libtofu.a, $shared_name and ${#programs[@]} examples" \
    "($format_seen); net.c sees $fact_line ($((SECONDS - t0)) s)" >"build/cross/$t.summary"
}

# Every target is built even when one fails, so one run shows them all.
summary=()
failed=0
start=$SECONDS
for t in "${targets[@]}"; do
  t0=$SECONDS
  rm -f "build/cross/$t.summary"
  set +e
  (
    set -e
    build_target "$t"
  )
  rc=$?
  set -e
  if [ $rc -eq 0 ] && [ -s "build/cross/$t.summary" ]; then
    summary+=("$(cat "build/cross/$t.summary")")
  else
    summary+=("$t: FAILED after $((SECONDS - t0)) s (the errors are above)")
    failed=1
  fi
done

echo "=== ci/test-cross.sh: zig cc $zig_version, $((SECONDS - start)) s ==="
printf '%s\n' "${summary[@]}"
exit $failed
