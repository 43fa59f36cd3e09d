# Sourced by the guest scripts (run.sh copies it into OUT): checks of the P2P
# order across devices, from the test driver's log of state changes. Needs the
# script's pass and fail functions.

# The driver logs every state change of every device as "vmt-arc SEQ FROM -> TO"
# with a module-wide SEQ. arcs FROM: "SEQ DEVICE FROM TO" of the changes after
# SEQ FROM, in SEQ order.
arcs() {
    dmesg | awk -v from="$1" '{
        for (i = 2; i < NF; i++) if ($i == "vmt-arc") break
        if (i == NF || $(i + 1) + 0 <= from) next
        dev = $(i - 1); sub(/:$/, "", dev)
        print $(i + 1), dev, $(i + 2), $(i + 4)
    }' | sort -n
}
last_arc() { arcs 0 | tail -1 | cut -d' ' -f1; }
# p2p_order FROM DEVICE...: the devices, all RUNNING at SEQ FROM, changed state
# in the order QEMU and the agent keep for the devices of one workload: none
# left RUNNING_P2P for STOP while another was RUNNING (initiating peer DMA it
# could no longer answer), none reached RUNNING while another was stopped. Says
# "in order: N arcs" or names each violation (and returns 1).
p2p_order() {
    from=$1; shift
    arcs "$from" | awk -v devs="$*" '
        BEGIN { n = split(devs, d, " "); for (i = 1; i <= n; i++) state[d[i]] = "RUNNING" }
        !($2 in state) { next }
        $3 == "RUNNING_P2P" && $4 == "STOP" {
            for (o in state) if (state[o] == "RUNNING") {
                print "violation: " $2 " left RUNNING_P2P for STOP (arc " $1 ") while " o " was RUNNING"; bad = 1 } }
        $3 == "RUNNING_P2P" && $4 == "RUNNING" {
            for (o in state) if (state[o] != "RUNNING" && state[o] != "RUNNING_P2P") {
                print "violation: " $2 " reached RUNNING (arc " $1 ") while " o " was in " state[o]; bad = 1 } }
        { state[$2] = $4; count++ }
        END { if (!bad) print "in order: " count " arcs"; exit bad }'
}
# order_check NAME WANT_STATUS PATTERN FROM DEVICE...
order_check() {
    name=$1 want=$2 pattern=$3; shift 3
    result=$(p2p_order "$@")
    got=$?
    arcs "$1" | sed 's/^/  arc /'
    echo "$result" | sed 's/^/  | /'
    if [ "$got" = "$want" ] && echo "$result" | grep -q -- "$pattern"; then
        pass "$name: $(echo "$result" | head -1)"
    else
        fail "$name: exit $got, wanted $want and $pattern"
    fi
}
