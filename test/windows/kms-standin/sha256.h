/* A small SHA-256 (FIPS 180-4) for the KMS stand-in's salted alpha-string check. */
#ifndef KMS_STANDIN_SHA256_H
#define KMS_STANDIN_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t state[8];
  uint64_t length;      /* bytes hashed so far */
  uint8_t block[64];
  size_t used;          /* bytes in block */
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t size);
void sha256_final(sha256_ctx *ctx, uint8_t digest[32]);

#endif
