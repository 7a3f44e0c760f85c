#!/bin/sh
# Start one bridge replica: copy the config with mqtt.client_id suffixed by this host's name
# (a container or pod name is unique), then exec `slastream bridge` with the given arguments.
#   slastream-bridge CONFIG [slastream bridge options...]
set -eu
config=$1
shift
own=/tmp/slastream-bridge.yaml
sed "s/^\(  client_id: *\)\([A-Za-z0-9_.-]*\)\(.*\)$/\1\2-$(hostname)\3/" "$config" > "$own"
exec slastream bridge -c "$own" "$@"
