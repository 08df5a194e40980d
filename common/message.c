/* message — the public accessors of a message (tofu_msg_*). */
#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"

tofu_message *msg_signal_notice(struct pool *p, uint16_t channel, int status) {
  tofu_message *n = pool_notice_new(p);
  if (n) {
    n->hdr.opcode = TOFU_OP_SIGNAL;
    n->hdr.channel = channel;
    msg_hand_back(n, status);
  }
  return n;
}

void msg_hand_back(tofu_message *m, int status) {
  m->hdr.origin = TOFU_ORIGIN_ENGINE;
  m->hdr.status = (uint8_t)status;
}

/* ---- Public accessors ------------------------------------------------- */

tofu_header *tofu_msg_header(tofu_message *m) {
  return &m->hdr;
}

void tofu_msg_reset(tofu_message *m) {
  if (!m)
    return;
  memset(&m->hdr, 0, sizeof(m->hdr));
  m->th_len = m->body_len = 0;
  m->timeout_ms = 0;
}

int tofu_msg_set_timeout(tofu_message *m, int timeout_ms) {
  if (!m || msg_in_pool(m))
    return TOFU_EINVAL;
  m->timeout_ms = timeout_ms;
  return TOFU_OK;
}

const void *tofu_msg_body(const tofu_message *m, size_t *len) {
  if (len)
    *len = m ? m->body_len : 0;
  return m ? m->body : NULL;
}

void *tofu_msg_body_mut(tofu_message *m, size_t *len) {
  if (len)
    *len = m ? m->body_len : 0;
  return m ? m->body : NULL;
}

const char *tofu_msg_headers(const tofu_message *m, size_t *len) {
  if (len)
    *len = m ? m->th_len : 0;
  return m ? (const char *)m->th : NULL;
}

int tofu_msg_set_body(tofu_message *m, const void *data, size_t len) {
  if (!m || (!data && len) || msg_in_pool(m))
    return TOFU_EINVAL;
  if (len > m->pool->max_message)
    return TOFU_ELIMIT;
  uint32_t keep = m->body_len;
  m->body_len = 0; /* nothing to preserve when growing */
  int rc = pool_reserve_body(m, len);
  if (rc != TOFU_OK) {
    m->body_len = keep;
    return rc;
  }
  if (len)
    memcpy(m->body, data, len);
  m->body_len = (uint32_t)len;
  return TOFU_OK;
}

int tofu_msg_append_body(tofu_message *m, const void *data, size_t len) {
  if (!m || (!data && len) || msg_in_pool(m))
    return TOFU_EINVAL;
  if (len > m->pool->max_message - m->body_len)
    return TOFU_ELIMIT;
  int rc = pool_reserve_body(m, (size_t)m->body_len + len);
  if (rc != TOFU_OK)
    return rc;
  if (len)
    memcpy(m->body + m->body_len, data, len);
  m->body_len += (uint32_t)len;
  return TOFU_OK;
}

int tofu_msg_set_headers(tofu_message *m, const void *raw, size_t len) {
  if (!m || (!raw && len) || msg_in_pool(m))
    return TOFU_EINVAL;
  if (len > TOFU_MAX_TEXT_HEADERS)
    return TOFU_ELIMIT;
  uint32_t keep = m->th_len;
  m->th_len = 0;
  int rc = pool_reserve_headers(m, len);
  if (rc != TOFU_OK) {
    m->th_len = keep;
    return rc;
  }
  if (len)
    memcpy(m->th, raw, len);
  m->th_len = (uint32_t)len;
  return TOFU_OK;
}

int tofu_msg_add_header(tofu_message *m, const char *name, const char *value) {
  if (!m || !name || !value || !*name || msg_in_pool(m))
    return TOFU_EINVAL;
  size_t nl = strlen(name), vl = strlen(value);
  if (strpbrk(name, ":\r\n") || strpbrk(value, "\r\n"))
    return TOFU_EINVAL;
  size_t add = nl + 1 + vl + 2; /* "name:value\r\n", as tofu writes it */
  if (add > TOFU_MAX_TEXT_HEADERS - m->th_len)
    return TOFU_ELIMIT;
  int rc = pool_reserve_headers(m, (size_t)m->th_len + add);
  if (rc != TOFU_OK)
    return rc;
  uint8_t *p = m->th + m->th_len;
  memcpy(p, name, nl);
  p += nl;
  *p++ = ':';
  memcpy(p, value, vl);
  p += vl;
  *p++ = '\r';
  *p++ = '\n';
  m->th_len += (uint32_t)add;
  return TOFU_OK;
}

static int is_blank(char c) {
  return c == ' ' || c == '\t';
}

int tofu_msg_find_header(const tofu_message *m, const char *name, const char **value, size_t *len) {
  if (!m || !name || !m->th) /* no buffer: no headers (and NULL + 0 is undefined) */
    return 0;
  size_t nl = strlen(name);
  const char *p = (const char *)m->th, *end = p + m->th_len;
  while (p < end) {
    const char *eol = p;
    while (eol < end && !(eol[0] == '\r' && eol + 1 < end && eol[1] == '\n'))
      eol++;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && (size_t)(colon - p) == nl && memcmp(p, name, nl) == 0) {
      const char *v = colon + 1, *ve = eol;
      while (v < ve && is_blank(*v))
        v++;
      while (ve > v && is_blank(ve[-1]))
        ve--;
      if (value)
        *value = v;
      if (len)
        *len = (size_t)(ve - v);
      return 1;
    }
    p = eol < end ? eol + 2 : end; /* never past the end */
  }
  return 0;
}

int tofu_msg_copy(tofu_message *dst, const tofu_message *src) {
  if (!dst || !src || msg_in_pool(dst))
    return TOFU_EINVAL;
  int rc = pool_reserve_headers(dst, src->th_len);
  if (rc == TOFU_OK)
    rc = pool_reserve_body(dst, src->body_len);
  if (rc != TOFU_OK)
    return rc;
  dst->hdr = src->hdr;
  if (src->th_len)
    memcpy(dst->th, src->th, src->th_len);
  dst->th_len = src->th_len;
  if (src->body_len)
    memcpy(dst->body, src->body, src->body_len);
  dst->body_len = src->body_len;
  return TOFU_OK;
}
