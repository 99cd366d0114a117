#!/bin/sh
# Print the path of a working Python 3.10 interpreter (Rasa 3.6 needs Python < 3.11).
# Tries pyenv's installed 3.10.x versions, then python3.10 and python3 on PATH. Each
# candidate must actually run: a pyenv shim for a version that is not selected fails.
check() {
    [ -n "$1" ] && "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1
}
candidates=""
if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
        candidates="$candidates $(PYENV_VERSION=$v pyenv which python 2>/dev/null)"
    done
fi
candidates="$candidates $(command -v python3.10 2>/dev/null) /usr/bin/python3.10 /usr/local/bin/python3.10 $(command -v python3 2>/dev/null)"
for py in $candidates; do
    if check "$py"; then
        echo "$py"
        exit 0
    fi
done
echo "no working Python 3.10 found (Rasa 3.6 needs it): install one, e.g. 'pyenv install 3.10.13', or set RASA_PYTHON" >&2
exit 1
