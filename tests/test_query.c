/* test_query.c - the query parser: every operator, precedence, and each malformed query is
 * refused with the column a user would be pointed at; hostile sizes stay bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "searcher.h"
#include "testlib.h"

/* Parses q and returns its rendering in a static buffer, or "ERR <code> @<column>". */
static const char *parsed(const char *q) {
  static char out[4096];
  seogo_error err = {0};
  sg_qnode *root = NULL;
  int rc = sg_query_parse(q, strlen(q), &root, &err);
  if (rc) {
    snprintf(out, sizeof out, "ERR %d @%d", rc, err.column);
    return out;
  }
  sg_buf b = {0};
  sg_qnode_format(root, &b);
  snprintf(out, sizeof out, "%.*s", (int)b.len, (const char *)b.data);
  sg_buf_free(&b);
  sg_qnode_free(root);
  return out;
}

/* Column and message of the error q makes (message into msg). */
static int error_column(const char *q, int expect_code, char *msg, size_t msg_size) {
  seogo_error err = {0};
  sg_qnode *root = NULL;
  int rc = sg_query_parse(q, strlen(q), &root, &err);
  sg_qnode_free(root);
  CHECK_MSG(rc == expect_code, "query [%s]: status %d, expected %d", q, rc, expect_code);
  if (msg) snprintf(msg, msg_size, "%s", err.message);
  return err.column;
}

#define CHECK_ERROR_AT(q, code, col, fragment)                                              \
  do {                                                                                      \
    char m_[512];                                                                           \
    int c_ = error_column(q, code, m_, sizeof m_);                                          \
    CHECK_MSG(c_ == (col), "query [%s]: column %d, expected %d (%s)", q, c_, col, m_);      \
    CHECK_MSG(strstr(m_, fragment) != NULL, "query [%s]: message \"%s\" lacks \"%s\"", q,  \
              m_, fragment);                                                                \
  } while (0)

static void test_words_and_implicit_and(void) {
  CHECK_EQ_STR(parsed("소버린 AI"), "AND(소버린, AI)");
  CHECK_EQ_STR(parsed("반도체를"), "반도체를");
  CHECK_EQ_STR(parsed("AI반도체"), "AI반도체");
  CHECK_EQ_STR(parsed("  기술주권  "), "기술주권");
  /* lowercase operators are ordinary words */
  CHECK_EQ_STR(parsed("chips and science"), "AND(chips, and, science)");
  CHECK_EQ_STR(parsed("or not"), "AND(or, not)");
  /* ideographic space separates words too */
  CHECK_EQ_STR(parsed("소버린\xE3\x80\x80" "AI"), "AND(소버린, AI)");
}

static void test_operators_and_precedence(void) {
  CHECK_EQ_STR(parsed("반도체 AND 수출"), "AND(반도체, 수출)");
  CHECK_EQ_STR(parsed("반도체 OR 수출"), "OR(반도체, 수출)");
  CHECK_EQ_STR(parsed("반도체 NOT 중국"), "AND(반도체, NOT(중국))");
  CHECK_EQ_STR(parsed("반도체 -중국"), "AND(반도체, NOT(중국))");
  CHECK_EQ_STR(parsed("반도체 AND (수출 OR 통제) NOT 중국"),
               "AND(반도체, OR(수출, 통제), NOT(중국))");
  /* AND binds tighter than OR, NOT tighter than AND */
  CHECK_EQ_STR(parsed("a b OR c"), "OR(AND(a, b), c)");
  CHECK_EQ_STR(parsed("a OR b c"), "OR(a, AND(b, c))");
  CHECK_EQ_STR(parsed("a OR b AND c OR d"), "OR(a, AND(b, c), d)");
  CHECK_EQ_STR(parsed("NOT a b"), "AND(NOT(a), b)");
  CHECK_EQ_STR(parsed("a NOT (b OR c)"), "AND(a, NOT(OR(b, c)))");
  CHECK_EQ_STR(parsed("a NOT NOT b"), "AND(a, b)");
  CHECK_EQ_STR(parsed("((a))"), "a");
  CHECK_EQ_STR(parsed("(a OR b)(c OR d)"), "AND(OR(a, b), OR(c, d))");
  /* a hyphen inside a word is not negation */
  CHECK_EQ_STR(parsed("U.S.-led"), "U.S.-led");
  CHECK_EQ_STR(parsed("--x"), "x");
}

static void test_phrases_prefix_near_file(void) {
  CHECK_EQ_STR(parsed("\"기술 주권\""), "\"기술 주권\"");
  CHECK_EQ_STR(parsed("\"technology sovereignty\" AI"), "AND(\"technology sovereignty\", AI)");
  CHECK_EQ_STR(parsed("\xE2\x80\x9C기술 주권\xE2\x80\x9D"), "\"기술 주권\""); /* curly quotes */
  CHECK_EQ_STR(parsed("\"a AND b\""), "\"a AND b\"");
  CHECK_EQ_STR(parsed("-\"a b\" c"), "AND(NOT(\"a b\"), c)");
  CHECK_EQ_STR(parsed("반도*"), "반도*");
  CHECK_EQ_STR(parsed("sovereign** AI"), "AND(sovereign*, AI)");
  CHECK_EQ_STR(parsed("NEAR(소버린 전략)"), "NEAR(소버린 전략, 10)");
  CHECK_EQ_STR(parsed("NEAR(소버린 전략, 5)"), "NEAR(소버린 전략, 5)");
  CHECK_EQ_STR(parsed("NEAR(소버린 \"AI 전략\" 한국,3)"), "NEAR(소버린 \"AI 전략\" 한국, 3)");
  CHECK_EQ_STR(parsed("NEAR (a b)"), "AND(NEAR, a, b)"); /* NEAR( must be written together */
  CHECK_EQ_STR(parsed("file:*002*"), "file:*002*");
  CHECK_EQ_STR(parsed("반도체 file:*002*"), "AND(반도체, file:*002*)");
  CHECK_EQ_STR(parsed("(반도체 file:*.txt)"), "AND(반도체, file:*.txt)");
  CHECK_EQ_STR(parsed("file:\"my notes*\""), "file:my notes*");
  CHECK_EQ_STR(parsed("-file:*002* 반도체"), "AND(NOT(file:*002*), 반도체)");
}

static void test_malformed_queries(void) {
  CHECK_ERROR_AT("", SEOGO_EQUERY, 1, "empty");
  CHECK_ERROR_AT("   ", SEOGO_EQUERY, 1, "empty");
  CHECK_ERROR_AT("\"기술 주권", SEOGO_EQUERY, 1, "quote");
  CHECK_ERROR_AT("소버린 \"기술 주권", SEOGO_EQUERY, 5, "quote");
  CHECK_ERROR_AT("a \"\" b", SEOGO_EQUERY, 3, "empty phrase");
  CHECK_ERROR_AT("(반도체 OR 수출", SEOGO_EQUERY, 1, "parenthesis");
  CHECK_ERROR_AT("반도체 (수출 OR (통제)", SEOGO_EQUERY, 5, "parenthesis");
  CHECK_ERROR_AT("반도체)", SEOGO_EQUERY, 4, "')'");
  CHECK_ERROR_AT("()", SEOGO_EQUERY, 1, "empty parentheses");
  CHECK_ERROR_AT("반도체 AND", SEOGO_EQUERY, 5, "AND");
  CHECK_ERROR_AT("반도체 OR", SEOGO_EQUERY, 5, "OR");
  CHECK_ERROR_AT("반도체 NOT", SEOGO_EQUERY, 5, "NOT");
  CHECK_ERROR_AT("AND 반도체", SEOGO_EQUERY, 1, "AND");
  CHECK_ERROR_AT("OR 반도체", SEOGO_EQUERY, 1, "OR");
  CHECK_ERROR_AT("AND", SEOGO_EQUERY, 1, "AND");
  CHECK_ERROR_AT("NOT", SEOGO_EQUERY, 1, "NOT");
  CHECK_ERROR_AT("반도체 AND OR 수출", SEOGO_EQUERY, 5, "missing");
  CHECK_ERROR_AT("(반도체 AND)", SEOGO_EQUERY, 6, "AND");
  CHECK_ERROR_AT("반도체 (OR 수출)", SEOGO_EQUERY, 6, "OR");
  CHECK_ERROR_AT("NEAR(a b", SEOGO_EQUERY, 1, "NEAR");
  CHECK_ERROR_AT("x NEAR(a)", SEOGO_EQUERY, 3, "two words");
  CHECK_ERROR_AT("NEAR(a b, 0)", SEOGO_EQUERY, 11, "distance");
  CHECK_ERROR_AT("NEAR(a b, -3)", SEOGO_EQUERY, 11, "distance");
  CHECK_ERROR_AT("NEAR(a b, x)", SEOGO_EQUERY, 11, "distance");
  CHECK_ERROR_AT("NEAR(a b, 1001)", SEOGO_EQUERY, 11, "distance");
  CHECK_ERROR_AT("NEAR(a b, 5 6)", SEOGO_EQUERY, 13, "')'");
  CHECK_ERROR_AT("NEAR(a b,)", SEOGO_EQUERY, 10, "distance");
  CHECK_ERROR_AT("NEAR(a (b c))", SEOGO_EQUERY, 8, "only words");
  CHECK_ERROR_AT("NEAR(a OR b)", SEOGO_EQUERY, 8, "only words");
  CHECK_ERROR_AT("반도체 file:", SEOGO_EQUERY, 5, "pattern");
  /* columns count characters, not bytes: 반도체 is 3 characters and 9 bytes */
  CHECK_ERROR_AT("반도체 \xff", SEOGO_EQUERY, 5, "UTF-8");
  CHECK_ERROR_AT("ab\xe3\x80", SEOGO_EQUERY, 3, "UTF-8");
  seogo_error err = {0};
  sg_qnode *root = NULL;
  CHECK_EQ_INT(sg_query_parse("a\0b", 3, &root, &err), SEOGO_EQUERY);
  CHECK_EQ_INT(err.column, 2);
}

static void test_deep_nesting_is_refused_quickly(void) {
  size_t n = 10000;
  char *q = malloc(2 * n + 2);
  memset(q, '(', n);
  q[n] = 'a';
  memset(q + n + 1, ')', n);
  q[2 * n + 1] = '\0';
  char msg[512];
  int col = error_column(q, SEOGO_ELIMIT, msg, sizeof msg);
  CHECK_EQ_INT(col, SG_QUERY_MAX_DEPTH + 1);
  CHECK(strstr(msg, "nested") != NULL);
  /* within the limit the same shape parses */
  memset(q, '(', 50);
  q[50] = 'a';
  memset(q + 51, ')', 50);
  q[101] = '\0';
  CHECK_EQ_STR(parsed(q), "a");
  /* a long chain of NOTs does not recurse */
  size_t len = 0;
  for (size_t i = 0; i < 3000; i++) len += (size_t)sprintf(q + len, "NOT ");
  strcpy(q + len, "a");
  CHECK_EQ_STR(parsed(q), "a");
  free(q);
}

static void test_huge_query_is_refused(void) {
  size_t n = 10u << 20;
  char *q = malloc(n);
  for (size_t i = 0; i < n; i++) q[i] = (i % 4 == 3) ? ' ' : 'a';
  seogo_error err = {0};
  sg_qnode *root = NULL;
  CHECK_EQ_INT(sg_query_parse(q, n, &root, &err), SEOGO_ELIMIT);
  CHECK(root == NULL);
  CHECK(strstr(err.message, "too long") != NULL);
  CHECK_EQ_INT(err.column, SG_QUERY_MAX_BYTES + 1);
  /* many words under the byte limit hit the word limit, not a slowdown */
  n = SG_QUERY_MAX_BYTES;
  CHECK_EQ_INT(sg_query_parse(q, n, &root, &err), SEOGO_ELIMIT);
  CHECK(strstr(err.message, "too many words") != NULL);
  /* 1000 words are fine */
  n = 4 * SG_QUERY_MAX_WORDS - 1;
  CHECK_EQ_INT(sg_query_parse(q, n, &root, &err), SEOGO_OK);
  CHECK_EQ_INT(root->kind, SG_Q_AND);
  CHECK_EQ_INT(root->nkids, SG_QUERY_MAX_WORDS);
  sg_qnode_free(root);
  free(q);
}

static void test_columns_of_nodes(void) {
  sg_qnode *root = NULL;
  const char *q = "반도체 \"기술 주권\" -중국";
  CHECK_EQ_INT(sg_query_parse(q, strlen(q), &root, NULL), SEOGO_OK);
  CHECK_EQ_INT(root->nkids, 3);
  CHECK_EQ_INT(root->kids[0]->column, 1);
  CHECK_EQ_INT(root->kids[1]->column, 5);
  CHECK_EQ_INT(root->kids[2]->column, 13);
  CHECK_EQ_INT(root->kids[2]->kids[0]->column, 14);
  sg_qnode_free(root);
}

int main(void) {
  RUN(test_words_and_implicit_and);
  RUN(test_operators_and_precedence);
  RUN(test_phrases_prefix_near_file);
  RUN(test_malformed_queries);
  RUN(test_deep_nesting_is_refused_quickly);
  RUN(test_huge_query_is_refused);
  RUN(test_columns_of_nodes);
  return tl_summary();
}
