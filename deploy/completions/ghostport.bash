# bash completion for ghostport (generated from its option table; do not edit)
_ghostport() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "scan watch history serve ui help version --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    --port) COMPREPLY=(); return ;;
    --interval) COMPREPLY=(); return ;;
    --state) COMPREPLY=($(compgen -W "listen connected" -- "$cur")); return ;;
    --since) COMPREPLY=(); return ;;
    --limit) COMPREPLY=(); return ;;
    --service) COMPREPLY=(); return ;;
    --socket) COMPREPLY=(); return ;;
    --socket-group) COMPREPLY=(); return ;;
    --metrics-address) COMPREPLY=(); return ;;
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
    --data-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --http-port) COMPREPLY=(); return ;;
  esac
  case "${COMP_WORDS[1]}" in
    scan) words="--port --state --details -v --json --quiet -q --service --no-service --data-dir --help -h" ;;
    watch) words="--port --interval --history --no-history --json --quiet -q --service --no-service --data-dir --help -h" ;;
    history) words="--port --since --limit --follow --json --quiet -q --service --no-service --data-dir --help -h" ;;
    serve) words="--interval --socket --socket-group --metrics-address --log-format --data-dir --help -h" ;;
    ui) words="--http-port --data-dir --help -h" ;;
    help) words="scan watch history serve ui help version" ;;
    version) words="" ;;
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _ghostport ghostport
