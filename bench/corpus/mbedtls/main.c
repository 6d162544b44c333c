/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark application around Mbed TLS: what a firmware-update client does with it (SHA-256 and
 * HMAC, HKDF, AES-GCM/CCM/CBC/CTR, ECDSA P-256 deterministic sign and verify, base64). The same source
 * is built against several Mbed TLS releases (bench/corpus/build.py). */
#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/base64.h"
#include "mbedtls/ccm.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/gcm.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/md.h"
#include "mbedtls/sha256.h"

volatile int result;
static unsigned char buffer[256];

int main(void)
{
    unsigned char key[32] = {1, 2, 3, 4}, iv[16] = {5}, tag[16], hash[32], sig[MBEDTLS_ECDSA_MAX_LEN];
    size_t len = 0;
    int r = 0;

    r |= mbedtls_sha256(buffer, sizeof buffer, hash, 0);
    r |= mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, 32, buffer, 64, hash);
    r |= mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, 16, key, 32, iv, 16, buffer, 64);

    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    r |= mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
    r |= mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, 64, iv, 12, NULL, 0, buffer, buffer, 16, tag);
    mbedtls_gcm_free(&gcm);

    mbedtls_ccm_context ccm;
    mbedtls_ccm_init(&ccm);
    r |= mbedtls_ccm_setkey(&ccm, MBEDTLS_CIPHER_ID_AES, key, 128);
    r |= mbedtls_ccm_auth_decrypt(&ccm, 64, iv, 12, NULL, 0, buffer, buffer, tag, 8);
    mbedtls_ccm_free(&ccm);

    mbedtls_aes_context aes;
    size_t off = 0;
    unsigned char stream[16];
    mbedtls_aes_init(&aes);
    r |= mbedtls_aes_setkey_dec(&aes, key, 128);
    r |= mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, 64, iv, buffer, buffer);
    r |= mbedtls_aes_setkey_enc(&aes, key, 256);
    r |= mbedtls_aes_crypt_ctr(&aes, 64, &off, iv, stream, buffer, buffer);
    mbedtls_aes_free(&aes);

    mbedtls_ecdsa_context ecdsa;
    mbedtls_mpi d;
    mbedtls_ecdsa_init(&ecdsa);
    mbedtls_mpi_init(&d);
    r |= mbedtls_ecp_group_load(&ecdsa.MBEDTLS_PRIVATE(grp), MBEDTLS_ECP_DP_SECP256R1);
    r |= mbedtls_mpi_read_binary(&ecdsa.MBEDTLS_PRIVATE(d), key, 32);
    r |= mbedtls_ecp_mul(&ecdsa.MBEDTLS_PRIVATE(grp), &ecdsa.MBEDTLS_PRIVATE(Q), &ecdsa.MBEDTLS_PRIVATE(d),
                         &ecdsa.MBEDTLS_PRIVATE(grp).G, NULL, NULL);
    mbedtls_mpi r_, s_;
    mbedtls_mpi_init(&r_);
    mbedtls_mpi_init(&s_);
    r |= mbedtls_ecdsa_sign_det_ext(&ecdsa.MBEDTLS_PRIVATE(grp), &r_, &s_, &ecdsa.MBEDTLS_PRIVATE(d), hash, 32,
                                    MBEDTLS_MD_SHA256, NULL, NULL);
    r |= mbedtls_ecdsa_verify(&ecdsa.MBEDTLS_PRIVATE(grp), hash, 32, &ecdsa.MBEDTLS_PRIVATE(Q), &r_, &s_);
    r |= mbedtls_ecdsa_write_signature(&ecdsa, MBEDTLS_MD_SHA256, hash, 32, sig, sizeof sig, &len, NULL, NULL);
    r |= mbedtls_ecdsa_read_signature(&ecdsa, hash, 32, sig, len);
    mbedtls_mpi_free(&r_);
    mbedtls_mpi_free(&s_);
    mbedtls_mpi_free(&d);
    mbedtls_ecdsa_free(&ecdsa);

    r |= mbedtls_base64_encode(buffer, sizeof buffer, &len, hash, 32);
    result = r;
    return 0;
}
