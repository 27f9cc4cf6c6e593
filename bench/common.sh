# Helpers the benchmark scripts share (sourced, not run).

# median < numbers: the middle value.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed CMD: wall seconds of one run of CMD (its output and exit status ignored).
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  eval "$1" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# digest_speed ALGORITHM: bytes per second of OpenSSL's EVP digest on 16 KiB blocks, one core.
digest_speed() {
  openssl speed -seconds 3 -evp "$1" 2>/dev/null |
    awk -v alg="$1" '$1 == alg {v=$NF} END {sub(/k$/, "", v); print v * 1000}'
}
