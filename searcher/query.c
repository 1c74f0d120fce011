/* query.c - the query language: lexer and recursive-descent parser from query text to a tree
 * of raw words and operators (analysis of the words happens later, in plan.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "searcher.h"

typedef enum tok_kind {
  T_END,
  T_WORD,
  T_PREFIX,
  T_PHRASE,
  T_FILE,
  T_LPAREN,
  T_RPAREN,
  T_AND,
  T_OR,
  T_NOT,
  T_MINUS,
  T_NEAR, /* "NEAR(" */
  T_COMMA /* only inside NEAR( ) */
} tok_kind;

typedef struct token {
  tok_kind kind;
  int column;
  size_t text_off, text_len; /* the word, phrase content or glob */
} token;

typedef struct parser {
  const char *q;
  size_t len;
  size_t pos;   /* next byte to lex */
  int col;      /* column of pos */
  int in_near;  /* ',' separates the NEAR distance */
  token peeked;
  int has_peek;
  size_t leaves;
  seogo_error *err;
} parser;

/* ---- characters ---------------------------------------------------------------------- */

/* The query has been validated as UTF-8 before lexing, so decoding cannot fail here. */
static int32_t char_at(const parser *p, size_t off, size_t *nbytes) {
  utf8proc_int32_t cp = 0;
  utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p->q + off,
                                        (utf8proc_ssize_t)(p->len - off), &cp);
  *nbytes = n > 0 ? (size_t)n : 1;
  return n > 0 ? cp : 0xFFFD;
}

static int is_space(int32_t c) {
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (c < 0x80) return 0;
  utf8proc_category_t cat = utf8proc_category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
         cat == UTF8PROC_CATEGORY_ZP;
}

/* Straight and curly double quotes all delimit phrases: Korean keyboards produce both. */
static int is_quote(int32_t c) {
  return c == '"' || c == 0x201C || c == 0x201D || c == 0xFF02;
}

static int ends_word(const parser *p, int32_t c) {
  return is_space(c) || c == '(' || c == ')' || is_quote(c) || (p->in_near && c == ',');
}

static void advance_char(parser *p) {
  size_t n;
  char_at(p, p->pos, &n);
  p->pos += n;
  p->col++;
}

static int32_t current_char(const parser *p) {
  size_t n;
  return p->pos < p->len ? char_at(p, p->pos, &n) : -1;
}

/* ---- errors -------------------------------------------------------------------------- */

static int syntax_error(parser *p, int column, const char *message) {
  return sg_fail_at(p->err, SEOGO_EQUERY, column, "%s", message);
}

/* Checks the whole query before parsing: size, UTF-8, emptiness. */
static int validate(const char *q, size_t len, seogo_error *err) {
  if (len > SG_QUERY_MAX_BYTES) {
    int col = 1;
    for (size_t i = 0; i < SG_QUERY_MAX_BYTES; i++)
      if (((unsigned char)q[i] & 0xC0) != 0x80) col++;
    return sg_fail_at(err, SEOGO_ELIMIT, col, "query is too long (%zu bytes; the limit is %d)",
                      len, SG_QUERY_MAX_BYTES);
  }
  int col = 1, blank = 1;
  for (size_t i = 0; i < len; col++) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)q + i, (utf8proc_ssize_t)(len - i), &cp);
    if (n < 0) return sg_fail_at(err, SEOGO_EQUERY, col, "invalid UTF-8 in the query");
    if (cp == 0) return sg_fail_at(err, SEOGO_EQUERY, col, "NUL character in the query");
    if (!is_space(cp)) blank = 0;
    i += (size_t)n;
  }
  if (blank) return sg_fail_at(err, SEOGO_EQUERY, 1, "empty query: nothing to search for");
  return SEOGO_OK;
}

/* ---- lexer ----------------------------------------------------------------------------- */

static void skip_spaces(parser *p) {
  while (p->pos < p->len && is_space(current_char(p))) advance_char(p);
}

/* Reads up to the closing quote; the opening one has been consumed. */
static int lex_quoted(parser *p, int open_col, token *t) {
  t->text_off = p->pos;
  while (p->pos < p->len && !is_quote(current_char(p))) advance_char(p);
  if (p->pos >= p->len)
    return syntax_error(p, open_col, "unclosed quote: the phrase needs a closing \"");
  t->text_len = p->pos - t->text_off;
  advance_char(p);
  return SEOGO_OK;
}

static int word_is(const parser *p, const token *t, const char *s) {
  size_t n = strlen(s);
  return t->text_len == n && memcmp(p->q + t->text_off, s, n) == 0;
}

static int lex_file(parser *p, token *t) {
  t->kind = T_FILE;
  if (p->pos < p->len && is_quote(current_char(p))) {
    int open_col = p->col;
    advance_char(p);
    int rc = lex_quoted(p, open_col, t);
    if (rc) return rc;
  } else {
    t->text_off = p->pos;
    while (p->pos < p->len) {
      int32_t c = current_char(p);
      if (is_space(c) || c == ')') break;
      advance_char(p);
    }
    t->text_len = p->pos - t->text_off;
  }
  if (t->text_len == 0)
    return syntax_error(p, t->column, "file: needs a pattern, e.g. file:*002*");
  return SEOGO_OK;
}

/* Classifies a bare word: operator, NEAR(, prefix or plain word. */
static void classify_word(parser *p, token *t) {
  if (word_is(p, t, "AND")) t->kind = T_AND;
  else if (word_is(p, t, "OR")) t->kind = T_OR;
  else if (word_is(p, t, "NOT")) t->kind = T_NOT;
  else if (word_is(p, t, "NEAR") && current_char(p) == '(') {
    advance_char(p);
    t->kind = T_NEAR;
  } else {
    size_t n = t->text_len;
    while (n > 0 && p->q[t->text_off + n - 1] == '*') n--;
    if (n > 0 && n < t->text_len) {
      t->kind = T_PREFIX;
      t->text_len = n;
    }
  }
}

static int lex(parser *p, token *t) {
  skip_spaces(p);
  memset(t, 0, sizeof *t);
  t->column = p->col;
  t->text_off = p->pos;
  if (p->pos >= p->len) {
    t->kind = T_END;
    return SEOGO_OK;
  }
  int32_t c = current_char(p);
  if (c == '(' || c == ')' || (c == ',' && p->in_near)) {
    advance_char(p);
    t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
    return SEOGO_OK;
  }
  if (is_quote(c)) {
    advance_char(p);
    t->kind = T_PHRASE;
    return lex_quoted(p, t->column, t);
  }
  if (c == '-' && p->pos + 1 < p->len) {
    size_t n;
    int32_t next = char_at(p, p->pos + 1, &n);
    if (!is_space(next) && next != ')') {
      advance_char(p);
      t->kind = T_MINUS;
      return SEOGO_OK;
    }
  }
  if (p->len - p->pos >= 5 && memcmp(p->q + p->pos, "file:", 5) == 0) {
    for (int i = 0; i < 5; i++) advance_char(p);
    return lex_file(p, t);
  }
  while (p->pos < p->len && !ends_word(p, current_char(p))) advance_char(p);
  t->kind = T_WORD;
  t->text_len = p->pos - t->text_off;
  classify_word(p, t);
  return SEOGO_OK;
}

static int peek(parser *p, token **t) {
  if (!p->has_peek) {
    int rc = lex(p, &p->peeked);
    if (rc) return rc;
    p->has_peek = 1;
  }
  *t = &p->peeked;
  return SEOGO_OK;
}

static void consume(parser *p) { p->has_peek = 0; }

/* ---- tree ---------------------------------------------------------------------------- */

void sg_qnode_free(sg_qnode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->nkids; i++) sg_qnode_free(n->kids[i]);
  free(n->kids);
  free(n->text);
  free(n);
}

static sg_qnode *node_new(sg_qkind kind, int column) {
  sg_qnode *n = calloc(1, sizeof *n);
  if (n) {
    n->kind = kind;
    n->column = column;
  }
  return n;
}

static sg_qnode *leaf_new(parser *p, sg_qkind kind, const token *t) {
  sg_qnode *n = node_new(kind, t->column);
  if (!n) return NULL;
  n->text = malloc(t->text_len + 1);
  if (!n->text) {
    free(n);
    return NULL;
  }
  memcpy(n->text, p->q + t->text_off, t->text_len);
  n->text[t->text_len] = '\0';
  n->len = t->text_len;
  return n;
}

/* Adds kid to n, taking ownership; a kid of the same AND/OR kind is merged into n. */
static int add_kid(sg_qnode *n, sg_qnode *kid) {
  int merge = kid->kind == n->kind && (n->kind == SG_Q_AND || n->kind == SG_Q_OR);
  size_t add = merge ? kid->nkids : 1;
  sg_qnode **kids = realloc(n->kids, (n->nkids + add) * sizeof *kids);
  if (!kids) return -1;
  n->kids = kids;
  if (merge) {
    memcpy(kids + n->nkids, kid->kids, add * sizeof *kids);
    kid->nkids = 0;
    sg_qnode_free(kid);
  } else {
    kids[n->nkids] = kid;
  }
  n->nkids += add;
  return 0;
}

/* ---- grammar ----------------------------------------------------------------------------
 *   query   := or EOF
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*
 *   unary   := ("NOT" | "-")* primary
 *   primary := "(" or ")" | WORD | PREFIX | PHRASE | FILE | near
 *   near    := "NEAR(" (WORD | PREFIX | PHRASE)+ ["," NUMBER] ")"
 */

static int parse_or(parser *p, int depth, sg_qnode **out);

static int starts_operand(tok_kind k) {
  return k == T_WORD || k == T_PREFIX || k == T_PHRASE || k == T_FILE || k == T_LPAREN ||
         k == T_NOT || k == T_MINUS || k == T_NEAR;
}

static int count_leaf(parser *p, const token *t) {
  if (++p->leaves > SG_QUERY_MAX_WORDS)
    return sg_fail_at(p->err, SEOGO_ELIMIT, t->column,
                      "query has too many words (the limit is %d)", SG_QUERY_MAX_WORDS);
  return SEOGO_OK;
}

static int nomem(parser *p) { return sg_fail(p->err, SEOGO_ENOMEM, "out of memory"); }

static int parse_leaf(parser *p, sg_qkind kind, sg_qnode **out) {
  token *t;
  int rc = peek(p, &t);
  if (rc || (rc = count_leaf(p, t))) return rc;
  if (kind == SG_Q_PHRASE) {
    int blank = 1;
    for (size_t i = 0; i < t->text_len; i++)
      if (!strchr(" \t\r\n", p->q[t->text_off + i])) blank = 0;
    if (blank) return syntax_error(p, t->column, "empty phrase: put words between the quotes");
  }
  *out = leaf_new(p, kind, t);
  consume(p);
  return *out ? SEOGO_OK : nomem(p);
}

static int parse_near_distance(parser *p, sg_qnode *near) {
  token *t;
  int rc = peek(p, &t);
  if (rc) return rc;
  if (t->kind != T_WORD && t->kind != T_PREFIX)
    return syntax_error(p, t->column, "NEAR needs a distance after ',', e.g. NEAR(a b, 5)");
  uint32_t v = 0;
  int ok = t->kind == T_WORD && t->text_len > 0 && t->text_len <= 4;
  for (size_t i = 0; ok && i < t->text_len; i++) {
    char c = p->q[t->text_off + i];
    if (c < '0' || c > '9') ok = 0;
    else v = v * 10 + (uint32_t)(c - '0');
  }
  if (!ok || v < 1 || v > SG_NEAR_MAX)
    return sg_fail_at(p->err, SEOGO_EQUERY, t->column,
                      "NEAR distance must be a whole number from 1 to %d", SG_NEAR_MAX);
  near->distance = v;
  consume(p);
  rc = peek(p, &t);
  if (rc) return rc;
  if (t->kind != T_RPAREN)
    return syntax_error(p, t->column, "expected ')' after the NEAR distance");
  return SEOGO_OK;
}

static int parse_near_items(parser *p, sg_qnode *near) {
  for (;;) {
    token *t;
    int rc = peek(p, &t);
    if (rc) return rc;
    if (t->kind == T_END)
      return syntax_error(p, near->column, "unclosed NEAR( : add ')'");
    if (t->kind == T_COMMA) {
      consume(p);
      if ((rc = parse_near_distance(p, near))) return rc;
      continue;
    }
    if (t->kind == T_RPAREN) {
      if (near->nkids < 2)
        return syntax_error(p, near->column, "NEAR needs at least two words, e.g. NEAR(a b)");
      consume(p);
      return SEOGO_OK;
    }
    if (t->kind != T_WORD && t->kind != T_PREFIX && t->kind != T_PHRASE)
      return syntax_error(p, t->column, "NEAR( ) takes only words and \"phrases\"");
    sg_qnode *kid;
    sg_qkind kind = t->kind == T_PHRASE ? SG_Q_PHRASE
                    : t->kind == T_PREFIX ? SG_Q_PREFIX : SG_Q_WORD;
    if ((rc = parse_leaf(p, kind, &kid))) return rc;
    if (add_kid(near, kid)) {
      sg_qnode_free(kid);
      return nomem(p);
    }
  }
}

static int parse_near(parser *p, sg_qnode **out) {
  token *t;
  int rc = peek(p, &t);
  if (rc || (rc = count_leaf(p, t))) return rc;
  sg_qnode *near = node_new(SG_Q_NEAR, t->column);
  if (!near) return nomem(p);
  near->distance = SG_NEAR_DEFAULT;
  consume(p);
  p->in_near = 1;
  rc = parse_near_items(p, near);
  p->in_near = 0;
  if (rc) {
    sg_qnode_free(near);
    return rc;
  }
  *out = near;
  return SEOGO_OK;
}

static int parse_group(parser *p, int depth, sg_qnode **out) {
  token *t;
  int rc = peek(p, &t);
  if (rc) return rc;
  int open_col = t->column;
  if (depth + 1 > SG_QUERY_MAX_DEPTH)
    return sg_fail_at(p->err, SEOGO_ELIMIT, open_col,
                      "parentheses nested too deeply (the limit is %d)", SG_QUERY_MAX_DEPTH);
  consume(p);
  if ((rc = peek(p, &t))) return rc;
  if (t->kind == T_RPAREN) return syntax_error(p, open_col, "empty parentheses");
  sg_qnode *inner = NULL;
  if ((rc = parse_or(p, depth + 1, &inner))) return rc;
  if ((rc = peek(p, &t))) {
    sg_qnode_free(inner);
    return rc;
  }
  if (t->kind != T_RPAREN) {
    sg_qnode_free(inner);
    return syntax_error(p, open_col, "unclosed parenthesis: add ')'");
  }
  consume(p);
  *out = inner;
  return SEOGO_OK;
}

static int operand_missing(parser *p, const token *op, const token *next) {
  const char *name = op->kind == T_AND ? "AND" : op->kind == T_OR ? "OR" :
                     op->kind == T_NOT ? "NOT" : "'-'";
  char msg[96];
  if (next->kind == T_AND || next->kind == T_OR)
    snprintf(msg, sizeof msg, "%s followed by %s: a word is missing between them", name,
             next->kind == T_AND ? "AND" : "OR");
  else
    snprintf(msg, sizeof msg, "%s needs a word after it", name);
  return syntax_error(p, op->column, msg);
}

static int parse_primary(parser *p, int depth, sg_qnode **out) {
  token *t;
  int rc = peek(p, &t);
  if (rc) return rc;
  switch (t->kind) {
  case T_LPAREN: return parse_group(p, depth, out);
  case T_WORD: return parse_leaf(p, SG_Q_WORD, out);
  case T_PREFIX: return parse_leaf(p, SG_Q_PREFIX, out);
  case T_PHRASE: return parse_leaf(p, SG_Q_PHRASE, out);
  case T_FILE: return parse_leaf(p, SG_Q_FILE, out);
  case T_NEAR: return parse_near(p, out);
  case T_AND: return syntax_error(p, t->column, "AND needs a word before it");
  case T_OR: return syntax_error(p, t->column, "OR needs a word before it");
  case T_RPAREN: return syntax_error(p, t->column, "unmatched ')'");
  default: return syntax_error(p, t->column, "a word is missing here");
  }
}

/* NOT and '-' chains are read in a loop (no recursion), so "NOT NOT ... x" is bounded. */
static int parse_unary(parser *p, int depth, sg_qnode **out) {
  token *t, op = {0};
  size_t negations = 0;
  int rc;
  for (;;) {
    if ((rc = peek(p, &t))) return rc;
    if (t->kind != T_NOT && t->kind != T_MINUS) break;
    op = *t;
    negations++;
    consume(p);
    if ((rc = peek(p, &t))) return rc;
    if (!starts_operand(t->kind)) return operand_missing(p, &op, t);
  }
  sg_qnode *operand = NULL;
  if ((rc = parse_primary(p, depth, &operand))) return rc;
  if (negations % 2 == 0) {
    *out = operand;
    return SEOGO_OK;
  }
  sg_qnode *not = node_new(SG_Q_NOT, op.column);
  if (!not || add_kid(not, operand)) {
    free(not);
    sg_qnode_free(operand);
    return nomem(p);
  }
  *out = not;
  return SEOGO_OK;
}

/* Parses a list of `sub` operands separated by `sep` (or juxtaposed, when `implicit`) into one
 * node of `kind`, or the single operand itself. */
static int parse_list(parser *p, int depth, sg_qkind kind, tok_kind sep, int implicit,
                      int (*sub)(parser *, int, sg_qnode **), sg_qnode **out) {
  sg_qnode *first = NULL, *list = NULL;
  int rc = sub(p, depth, &first);
  if (rc) return rc;
  for (;;) {
    token *t;
    if ((rc = peek(p, &t))) break;
    token op = *t;
    if (op.kind == sep) {
      consume(p);
      if ((rc = peek(p, &t))) break;
      if (!starts_operand(t->kind)) {
        rc = operand_missing(p, &op, t);
        break;
      }
    } else if (!(implicit && starts_operand(op.kind))) {
      break;
    }
    sg_qnode *next = NULL;
    if ((rc = sub(p, depth, &next))) break;
    if (!list) {
      list = node_new(kind, first->column);
      if (!list || add_kid(list, first)) {
        free(list);
        list = NULL;
        sg_qnode_free(next);
        rc = nomem(p);
        break;
      }
      first = NULL;
    }
    if (add_kid(list, next)) {
      sg_qnode_free(next);
      rc = nomem(p);
      break;
    }
  }
  if (rc) {
    sg_qnode_free(first);
    sg_qnode_free(list);
    return rc;
  }
  *out = list ? list : first;
  return SEOGO_OK;
}

static int parse_and(parser *p, int depth, sg_qnode **out) {
  return parse_list(p, depth, SG_Q_AND, T_AND, 1, parse_unary, out);
}

static int parse_or(parser *p, int depth, sg_qnode **out) {
  return parse_list(p, depth, SG_Q_OR, T_OR, 0, parse_and, out);
}

int sg_query_parse(const char *query, size_t len, sg_qnode **out, seogo_error *err) {
  *out = NULL;
  if (!query && len) return sg_fail(err, SEOGO_EINVAL, "query is NULL");
  int rc = validate(query, len, err);
  if (rc) return rc;
  parser p = {.q = query, .len = len, .col = 1, .err = err};
  sg_qnode *root = NULL;
  if ((rc = parse_or(&p, 0, &root))) return rc;
  token *t;
  if ((rc = peek(&p, &t))) {
    sg_qnode_free(root);
    return rc;
  }
  if (t->kind != T_END) {
    sg_qnode_free(root);
    if (t->kind == T_RPAREN) return syntax_error(&p, t->column, "unmatched ')'");
    return syntax_error(&p, t->column, "unexpected text here");
  }
  *out = root;
  return SEOGO_OK;
}

/* ---- rendering (explain output and tests) ------------------------------------------------ */

static int put_str(sg_buf *b, const char *s) { return sg_buf_append(b, s, strlen(s)); }

static int format_leaf(const sg_qnode *n, sg_buf *out) {
  switch (n->kind) {
  case SG_Q_PHRASE:
    return put_str(out, "\"") || sg_buf_append(out, n->text, n->len) || put_str(out, "\"");
  case SG_Q_PREFIX: return sg_buf_append(out, n->text, n->len) || put_str(out, "*");
  case SG_Q_FILE: return put_str(out, "file:") || sg_buf_append(out, n->text, n->len);
  default: return sg_buf_append(out, n->text, n->len);
  }
}

int sg_qnode_format(const sg_qnode *n, sg_buf *out) {
  static const char *const names[] = {[SG_Q_NEAR] = "NEAR", [SG_Q_AND] = "AND",
                                      [SG_Q_OR] = "OR", [SG_Q_NOT] = "NOT"};
  if (n->kind < SG_Q_NEAR) return format_leaf(n, out);
  if (put_str(out, names[n->kind]) || put_str(out, "(")) return -1;
  for (size_t i = 0; i < n->nkids; i++) {
    if (i && put_str(out, n->kind == SG_Q_NEAR ? " " : ", ")) return -1;
    if (sg_qnode_format(n->kids[i], out)) return -1;
  }
  if (n->kind == SG_Q_NEAR) {
    char d[24];
    snprintf(d, sizeof d, ", %u", (unsigned)n->distance);
    if (put_str(out, d)) return -1;
  }
  return put_str(out, ")");
}
