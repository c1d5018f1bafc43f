#!/bin/sh
# Runs the Dockerfile's build stage as plain shell, with no container daemon: its COPY and RUN
# lines are read from the Dockerfile itself (so this cannot drift from it) and executed in a
# scratch directory standing in for WORKDIR. Then checks that what the runtime stage copies
# from the build stage exists, and that the built service loads.
#
#   scripts/docker-build-stage.sh                 # as CI runs it: npm ci, build, prune
#   REUSE_NODE_MODULES=1 scripts/docker-build-stage.sh   # offline: symlink ./node_modules,
#                                                        # skip `npm ci` and `npm prune`
#   DIST_OUT=dist scripts/docker-build-stage.sh          # then replace ./dist with the stage's
#                                                        # build (CI: the one build of the run)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The build stage: from its FROM line to the next FROM.
stage=$(awk '/^FROM .* AS build/{on=1; next} /^FROM /{on=0} on' "$root/Dockerfile")

echo "$stage" | while IFS= read -r line; do
  case "$line" in
    "COPY --from="*) echo "unexpected COPY --from in the build stage: $line" >&2; exit 1 ;;
    COPY\ *)
      set -- $line
      shift
      while [ $# -gt 1 ]; do
        src=$1; shift
        dest=$(eval echo "\${$#}")
        mkdir -p "$(dirname "./$dest")"
        cp -R "$root/$src" "./$dest"
      done
      echo "+ $line"
      ;;
    RUN\ *)
      cmd=${line#RUN }
      if [ "${REUSE_NODE_MODULES:-}" = 1 ]; then
        case "$cmd" in
          "npm ci"*) ln -s "$root/node_modules" node_modules; echo "+ (reused node_modules) $cmd"; continue ;;
          "npm prune"*) echo "+ (skipped with reused node_modules) $cmd"; continue ;;
        esac
      fi
      echo "+ $cmd"
      sh -c "$cmd"
      ;;
  esac
done

# What the runtime stage takes from the build stage.
for path in $(awk '/^COPY --from=build/{print $(NF-1)}' "$root/Dockerfile"); do
  [ -e "$work/${path#/app/}" ] || { echo "missing from the build stage: $path" >&2; exit 1; }
done
for path in $(awk '/^COPY / && !/--from=/ && seen {print $(NF-1)} /^FROM .* AS runtime/{seen=1}' "$root/Dockerfile"); do
  [ -e "$root/$path" ] || { echo "missing from the build context: $path" >&2; exit 1; }
done
node -e "import('$work/dist/Config.js').then(() => console.log('dist/ loads'))"
echo "build stage OK"
if [ -n "${DIST_OUT:-}" ]; then
  case "$DIST_OUT" in /*) out=$DIST_OUT ;; *) out=$root/$DIST_OUT ;; esac
  rm -rf "$out"
  cp -R "$work/dist" "$out"
  echo "+ (copied the stage's dist/ to $out)"
fi
