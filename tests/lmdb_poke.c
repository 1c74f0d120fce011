/* lmdb_poke.c - a test helper that damages one record of an index through LMDB's own API (so
 * LMDB's page structure stays sound and only Seogo's bytes are bad); built by test_badindex.sh.
 *
 *   lmdb_poke GEN_DIR keys DB [PREFIX]   list keys (hex), those starting with PREFIX
 *   lmdb_poke GEN_DIR get DB KEY         print a value (hex)
 *   lmdb_poke GEN_DIR put DB KEY VALUE   store a value
 *   lmdb_poke GEN_DIR del DB KEY         delete a key
 *   lmdb_poke GEN_DIR create DB          make GEN_DIR a valid LMDB environment holding only DB
 *
 * KEY, VALUE and PREFIX are "hex:0a1b", "str:text" or "be32:NUMBER". Exits 0 on success, 1 when
 * the key is missing, 2 on any other error. */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_bytes(const char *arg, unsigned char *out, size_t cap, size_t *len) {
  if (!strncmp(arg, "str:", 4)) {
    *len = strlen(arg + 4);
    if (*len > cap) return -1;
    memcpy(out, arg + 4, *len);
    return 0;
  }
  if (!strncmp(arg, "be32:", 5)) {
    unsigned long v = strtoul(arg + 5, NULL, 10);
    out[0] = (unsigned char)(v >> 24);
    out[1] = (unsigned char)(v >> 16);
    out[2] = (unsigned char)(v >> 8);
    out[3] = (unsigned char)v;
    *len = 4;
    return 0;
  }
  if (!strncmp(arg, "hex:", 4)) {
    const char *h = arg + 4;
    size_t n = strlen(h);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
      unsigned v;
      if (sscanf(h + 2 * i, "%2x", &v) != 1) return -1;
      out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
  }
  return -1;
}

static void print_hex(const MDB_val *v) {
  for (size_t i = 0; i < v->mv_size; i++) printf("%02x", ((const unsigned char *)v->mv_data)[i]);
  putchar('\n');
}

static int fail(const char *what, int rc) {
  fprintf(stderr, "lmdb_poke: %s: %s\n", what, mdb_strerror(rc));
  return 2;
}

static int list_keys(MDB_txn *txn, MDB_dbi dbi, const unsigned char *prefix, size_t plen) {
  MDB_cursor *c;
  int rc = mdb_cursor_open(txn, dbi, &c);
  if (rc) return fail("cursor", rc);
  MDB_val k = {plen, (void *)prefix}, v;
  for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)) break;
    print_hex(&k);
  }
  mdb_cursor_close(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: lmdb_poke GEN_DIR keys|get|put|del|create DB [KEY [VALUE]]\n");
    return 2;
  }
  const char *dir = argv[1], *cmd = argv[2], *db = argv[3];
  static unsigned char key[4096], val[1 << 16];
  size_t klen = 0, vlen = 0;
  int need_key = strcmp(cmd, "create") && strcmp(cmd, "keys");
  if ((need_key && (argc < 5 || parse_bytes(argv[4], key, sizeof key, &klen))) ||
      (!strcmp(cmd, "keys") && argc > 4 && parse_bytes(argv[4], key, sizeof key, &klen)) ||
      (!strcmp(cmd, "put") && (argc < 6 || parse_bytes(argv[5], val, sizeof val, &vlen)))) {
    fprintf(stderr, "lmdb_poke: bad KEY or VALUE (hex:.., str:.., be32:..)\n");
    return 2;
  }
  MDB_env *env;
  int rc = mdb_env_create(&env);
  if (rc) return fail("env", rc);
  mdb_env_set_maxdbs(env, 16);
  mdb_env_set_mapsize(env, (size_t)1 << 30);
  if ((rc = mdb_env_open(env, dir, 0, 0644))) return fail(dir, rc);
  MDB_txn *txn;
  MDB_dbi dbi;
  int status = 0;
  if ((rc = mdb_txn_begin(env, NULL, 0, &txn))) return fail("txn", rc);
  if ((rc = mdb_dbi_open(txn, db, !strcmp(cmd, "create") ? MDB_CREATE : 0, &dbi))) {
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return fail(db, rc);
  }
  MDB_val k = {klen, key}, v = {vlen, val};
  if (!strcmp(cmd, "keys")) {
    status = list_keys(txn, dbi, key, klen);
  } else if (!strcmp(cmd, "get")) {
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) print_hex(&v);
    status = rc == MDB_NOTFOUND ? 1 : rc ? fail("get", rc) : 0;
  } else if (!strcmp(cmd, "put")) {
    rc = mdb_put(txn, dbi, &k, &v, 0);
    status = rc ? fail("put", rc) : 0;
  } else if (!strcmp(cmd, "del")) {
    rc = mdb_del(txn, dbi, &k, NULL);
    status = rc == MDB_NOTFOUND ? 1 : rc ? fail("del", rc) : 0;
  } else if (!strcmp(cmd, "create")) {
    MDB_val ck = {3, "key"}, cv = {5, "value"};
    rc = mdb_put(txn, dbi, &ck, &cv, 0);
    status = rc ? fail("put", rc) : 0;
  } else {
    fprintf(stderr, "lmdb_poke: unknown command %s\n", cmd);
    status = 2;
  }
  if (status == 0) {
    if ((rc = mdb_txn_commit(txn))) status = fail("commit", rc);
  } else {
    mdb_txn_abort(txn);
  }
  mdb_env_close(env);
  return status;
}
