# Stamped builds of the test tools, sourced by hack/testenv/build.sh and
# hack/porch/build.sh. A stamp names everything an output depends on: the Go
# toolchain, the target platform, the pinned module graph of the tool module
# that builds it and the calling script's recipe number. When it matches the
# stamp stored beside an output, the output is up to date.
#
# The caller sets: go (the go command), bin (the output directory), recipe,
# and tool (the prefix of progress messages).

toolchain="$("$go" env GOVERSION GOOS GOARCH | tr '\n' ' ')"

stamp_of() { # module directory
	{
		echo "recipe=$recipe toolchain=$toolchain"
		cat "$1/go.mod" "$1/go.sum"
	} | sha256sum | cut -d' ' -f1
}

fresh() { # output stamp
	[[ "${O2IMS_TESTENV_FORCE:-}" != 1 && -e "$1" && -f "$1.stamp" && "$(cat "$1.stamp")" == "$2" ]]
}

build() { # name module-dir stamp package ldflags [VAR=value...]
	local name="$1" dir="$2" stamp="$3" pkg="$4" ldflags="$5"
	shift 5
	local out="$bin/$name"
	fresh "$out" "$stamp" && return 0
	echo "$tool: building $name ($pkg)" >&2
	local start=$SECONDS
	(cd "$dir" && env "$@" "$go" build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg")
	mv -f "$out.tmp" "$out"
	echo "$stamp" >"$out.stamp"
	echo "$tool: built $name in $((SECONDS - start))s" >&2
}
