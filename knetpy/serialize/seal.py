"""seal: the 512-byte header at the start of every checkpoint.

Version 2 header (ASCII, then zero bytes up to 512)::

    KNETPY-CHECKPOINT 2 sha256=<64 hex> hmac=<64 hex, or 64 '-'>\\n

``sha256`` is the digest of the file from byte 512 on: a corruption check
that anyone can recompute.  ``hmac`` is HMAC-SHA256 of that digest under a
per-user key kept outside the file, in ``$KNETPY_KEY_DIR/checkpoint.key`` or
else ``~/.config/knetpy/checkpoint.key`` (32 random bytes, mode 0600, made
by the first ``save``).  A valid ``hmac`` proves that this user's ``save``
wrote the file, which ``load`` then parses in-process at full speed; every
other file (another user's, another machine's, version 1, crafted) is
parsed in an isolated child process (see ``isolate``).  A key file that
others can read or that another user owns is not used.

Version 1 header (knetpy before this format): ``KNETPY-CHECKPOINT sha256=<hex>``.
"""
import hashlib
import hmac
import os
import secrets
import stat

from .errors import CheckpointError

HEADER = 512
_MAGIC2 = b"KNETPY-CHECKPOINT 2 sha256="
_MAGIC1 = b"KNETPY-CHECKPOINT sha256="
_HDF5 = b"\x89HDF\r\n\x1a\n"
_NOKEY = "-" * 64
_KEYS = {}


def key_dir():
    """The folder of the per-user key: $KNETPY_KEY_DIR, else $XDG_CONFIG_HOME/knetpy,
    else ~/.config/knetpy."""
    d = os.environ.get("KNETPY_KEY_DIR")
    if d:
        return d
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "knetpy")


def user_key(create=False):
    """user_key(create=False) -> the 32-byte key, or None when there is none
    (or it is unsafe: not ours, or readable by others).  With ``create``,
    make it when it is missing (atomically: written aside, then linked)."""
    d = key_dir()
    path = os.path.join(d, "checkpoint.key")
    if path in _KEYS:
        return _KEYS[path]
    key = _read_key(path)
    if key is None and create:
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
            tmp = os.path.join(d, f".checkpoint.key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            try:
                os.write(fd, secrets.token_bytes(32))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)          # fails if another process made it first
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        except OSError:
            return None                     # no writable config folder: files stay unsealed
        key = _read_key(path)
    if key is not None:
        _KEYS[path] = key
    return key


def _read_key(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077 \
                or st.st_size != 32:
            return None
        data = os.read(fd, 33)
        return data if len(data) == 32 else None
    finally:
        os.close(fd)


def _mac(key, digest_hex):
    return hmac.new(key, b"knetpy-checkpoint-2\0" + bytes.fromhex(digest_hex),
                    hashlib.sha256).hexdigest()


def digest(fd, start=HEADER):
    """SHA-256 (hex) of an open file descriptor's bytes from ``start`` on."""
    h = hashlib.sha256()
    os.lseek(fd, start, os.SEEK_SET)
    while True:
        block = os.read(fd, 1 << 22)
        if not block:
            return h.hexdigest()
        h.update(block)


def write_header(fd):
    """Seal the file open as ``fd`` (its user block is reserved): sha256, and
    the hmac when this user has (or can make) a key."""
    d = digest(fd)
    key = user_key(create=True)
    mac = _mac(key, d) if key is not None else _NOKEY
    head = _MAGIC2 + d.encode() + b" hmac=" + mac.encode() + b"\n"
    os.pwrite(fd, head.ljust(HEADER, b"\0"), 0)


def check(fd, label):
    """check(fd, label) -> True when the file is sealed by this user (trusted),
    False when its checksum is right but it is someone else's (or version 1).
    Raises CheckpointError for a missing header or a wrong checksum."""
    head = os.pread(fd, HEADER, 0)
    if head.startswith(_MAGIC2):
        want = head[len(_MAGIC2):len(_MAGIC2) + 64].decode("ascii", "replace")
        rest = head[len(_MAGIC2) + 64:len(_MAGIC2) + 64 + 6 + 64]
        mac = rest[6:].decode("ascii", "replace") if rest.startswith(b" hmac=") else ""
    elif head.startswith(_MAGIC1):
        want = head[len(_MAGIC1):len(_MAGIC1) + 64].decode("ascii", "replace")
        mac = ""
    else:
        what = "an HDF5 file" if head.startswith(_HDF5) else "a file"
        raise CheckpointError(f"load: {label} is {what} without a knetpy checkpoint header: "
                              "not written by knetpy.save, or damaged")
    if len(head) < HEADER or digest(fd) != want:
        raise CheckpointError(f"load: {label} is corrupt or truncated (its checksum does "
                              "not match its contents)")
    if len(mac) != 64 or mac == _NOKEY:
        return False
    key = user_key()
    return key is not None and hmac.compare_digest(_mac(key, want), mac)
