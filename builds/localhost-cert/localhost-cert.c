/*
 * localhost-cert DIR: a key and a self-signed certificate for 127.0.0.1 and localhost, made at
 * boot for this dyno alone, as DIR/client-tls.key (0600) and DIR/client-tls.crt: what pgbouncer
 * presents to the app's clients that insist on TLS to it (node-postgres with `ssl`, JDBC or pgx
 * with sslmode=require). The connection never leaves the dyno; the certificate only lets such a
 * client connect. P-256, so it takes a millisecond, not an RSA key's tens.
 *
 * Linked against the OpenSSL that pgbouncer and stunnel are built with (builds/build-static.sh).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int fail(const char *what) {
  fprintf(stderr, "localhost-cert: %s\n", what);
  return 1;
}

/* add_extension CERT NID VALUE: an X.509v3 extension, in OpenSSL's config syntax. */
static int add_extension(X509 *cert, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  int ok = ext && X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

/* write_key PATH KEY, write_cert PATH CERT: as PEM, each in a file made new (the key 0600). */
static int write_key(const char *path, EVP_PKEY *key) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  int ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  if (f) ok = (fclose(f) == 0) && ok;
  else if (fd >= 0) close(fd);
  return ok;
}

static int write_cert(const char *path, X509 *cert) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  int ok = f && PEM_write_X509(f, cert);
  if (f) ok = (fclose(f) == 0) && ok;
  else if (fd >= 0) close(fd);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) return fail("usage: localhost-cert DIR");
  char key_path[4096], cert_path[4096];
  snprintf(key_path, sizeof key_path, "%s/client-tls.key", argv[1]);
  snprintf(cert_path, sizeof cert_path, "%s/client-tls.crt", argv[1]);

  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  if (!key || !cert) return fail("no key");
  X509_set_version(cert, X509_VERSION_3);
  /* A random serial: two dynos' certificates are never the same one. */
  unsigned char serial[16];
  FILE *urandom = fopen("/dev/urandom", "re");
  if (!urandom || fread(serial, 1, sizeof serial, urandom) != sizeof serial) return fail("no /dev/urandom");
  fclose(urandom);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  /* Valid from a day ago (a client's clock may be behind), for a year: a dyno lives a day. */
  X509_gmtime_adj(X509_getm_notBefore(cert), -86400L);
  X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 86400L);
  X509_NAME *name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  if (!add_extension(cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
      !add_extension(cert, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert, NID_ext_key_usage, "serverAuth"))
    return fail("cannot add the certificate's extensions");
  if (!X509_sign(cert, key, EVP_sha256())) return fail("cannot sign the certificate");
  if (!write_key(key_path, key)) return fail("cannot write the key");
  if (!write_cert(cert_path, cert)) return fail("cannot write the certificate");
  X509_free(cert);
  EVP_PKEY_free(key);
  return 0;
}
