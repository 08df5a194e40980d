#define _POSIX_C_SOURCE 200809L
#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "pool.h"

static size_t round_cap(size_t need, size_t max) {
  size_t cap = 64;
  while (cap < need)
    cap <<= 1;
  if (cap > max)
    cap = max;
  return cap < need ? need : cap;
}

/* Grow *buf from *cap to hold need bytes (keeping len bytes), charging the
 * pool. */
static int grow(tofu_message *m, uint8_t **buf, uint32_t *cap, uint32_t len, size_t need,
                size_t max) {
  if (need <= *cap)
    return TOFU_OK;
  if (need > max)
    return TOFU_ELIMIT;
  size_t ncap = round_cap(need, max);
  size_t extra = ncap - *cap;
  if (pool_charge(m->pool, extra) != TOFU_OK) {
    /* Rounding up may be what does not fit: try the exact need. */
    ncap = need;
    extra = ncap - *cap;
    if (pool_charge(m->pool, extra) != TOFU_OK)
      return TOFU_ELIMIT;
  }
  uint8_t *nb = malloc(ncap);
  if (!nb) {
    pool_uncharge(m->pool, extra);
    return TOFU_ENOMEM;
  }
  if (len)
    memcpy(nb, *buf, len);
  free(*buf);
  *buf = nb;
  *cap = (uint32_t)ncap;
  m->charged += extra;
  return TOFU_OK;
}

int msg_reserve_headers(tofu_message *m, size_t cap) {
  return grow(m, &m->th, &m->th_cap, m->th_len, cap, TOFU_MAX_TEXT_HEADERS);
}

int msg_reserve_body(tofu_message *m, size_t cap) {
  return grow(m, &m->body, &m->body_cap, m->body_len, cap, TOFU_MAX_BODY);
}

void msg_drop_buffers(tofu_message *m) {
  size_t freed = (size_t)m->th_cap + m->body_cap;
  free(m->th);
  free(m->body);
  m->th = m->body = NULL;
  m->th_cap = m->body_cap = m->th_len = m->body_len = 0;
  if (freed) {
    m->charged -= freed;
    pool_uncharge(m->pool, freed);
  }
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
  if (!m || (!data && len))
    return TOFU_EINVAL;
  if (len > TOFU_MAX_BODY)
    return TOFU_ELIMIT;
  uint32_t keep = m->body_len;
  m->body_len = 0; /* nothing to preserve when growing */
  int rc = msg_reserve_body(m, len);
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
  if (!m || (!data && len))
    return TOFU_EINVAL;
  if (len > TOFU_MAX_BODY - m->body_len)
    return TOFU_ELIMIT;
  int rc = msg_reserve_body(m, (size_t)m->body_len + len);
  if (rc != TOFU_OK)
    return rc;
  if (len)
    memcpy(m->body + m->body_len, data, len);
  m->body_len += (uint32_t)len;
  return TOFU_OK;
}

int tofu_msg_set_headers(tofu_message *m, const void *raw, size_t len) {
  if (!m || (!raw && len))
    return TOFU_EINVAL;
  if (len > TOFU_MAX_TEXT_HEADERS)
    return TOFU_ELIMIT;
  uint32_t keep = m->th_len;
  m->th_len = 0;
  int rc = msg_reserve_headers(m, len);
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
  if (!m || !name || !value || !*name)
    return TOFU_EINVAL;
  size_t nl = strlen(name), vl = strlen(value);
  if (strpbrk(name, ":\r\n") || strpbrk(value, "\r\n"))
    return TOFU_EINVAL;
  size_t add = nl + 2 + vl + 2;
  if (add > TOFU_MAX_TEXT_HEADERS - m->th_len)
    return TOFU_ELIMIT;
  int rc = msg_reserve_headers(m, (size_t)m->th_len + add);
  if (rc != TOFU_OK)
    return rc;
  uint8_t *p = m->th + m->th_len;
  memcpy(p, name, nl);
  p += nl;
  *p++ = ':';
  *p++ = ' ';
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
  if (!dst || !src)
    return TOFU_EINVAL;
  int rc = msg_reserve_headers(dst, src->th_len);
  if (rc == TOFU_OK)
    rc = msg_reserve_body(dst, src->body_len);
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
