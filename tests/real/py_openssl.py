#!/usr/bin/python3
"""OpenSSL from several Python threads: TLS contexts (each loads the system's CA store:
thousands of X509 and EVP_PKEY objects, each with its own CRYPTO_THREAD_lock_new rwlock,
created and freed), digests and PBKDF2.  Exercises a library that creates and destroys tens of
thousands of locks through one wrapper function.  The output is the digests, sorted."""
import hashlib
import ssl
from concurrent.futures import ThreadPoolExecutor


def work(i):
    ssl.create_default_context()
    h = hashlib.new("sha3_256" if i % 2 else "blake2b")
    h.update(b"x" * (1000 + i))
    k = hashlib.pbkdf2_hmac("sha256", b"pw", b"salt%d" % i, 200)
    return h.hexdigest()[:8] + k.hex()[:8]


with ThreadPoolExecutor(4) as ex:
    res = sorted(ex.map(work, range(60)))
print("openssl: contexts", len(res))
print("openssl: digests", hashlib.sha256("".join(res).encode()).hexdigest()[:16])
