# Shared by the sandbox stand-ins: the host's root, its state dir and its fake processes.
# Fake pids are above the kernel's pid_max (2^22), so no signal can reach a real process.
R=$HACTL_SANDBOX
S=$R/.sandbox
pid_of() { case "$1" in keepalived) echo 5000001;; nginx) echo 5000002;; *) echo 5000009;; esac; }
running() { [ -f "$R/proc/$(pid_of "$1")/comm" ]; }
log() { echo "$*" >> "$S/log"; }
