/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application interface: the table at the fixed address SE_API (SPB_BOOT_BASE + SPB_VECTOR_SIZE)
 * and the small calls that are not part of the update engine.
 */
#include <string.h>

#include "image.h"
#include "se_interface.h"
#include "trial.h"

#ifndef SPB_BOOT_VERSION_STR
#define SPB_BOOT_VERSION_STR "v0.0.0"
#endif

SE_ErrorStatus SE_APP_GetActiveFwInfo(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info)
{
    image_header_t h;
    if (info == NULL || image_read_header(SLOT0, &h) != IMAGE_OK) {
        if (status != NULL) {
            *status = SE_KO;
        }
        return SE_ERROR;
    }
    info->ActiveFwVersion = h.version;
    info->ActiveFwSize = h.size;
    memcpy(info->ActiveFwTag, &h.raw[0x1C], sizeof info->ActiveFwTag);
    if (status != NULL) {
        *status = SE_OK;
    }
    return SE_SUCCESS;
}

static SE_ErrorStatus result(SE_StatusTypeDef *status, bool ok)
{
    if (status != NULL) {
        *status = ok ? SE_OK : SE_KO;
    }
    return ok ? SE_SUCCESS : SE_ERROR;
}

/* The ABI-1 entry above writes the first 40 bytes only (what applications built before these fields pass). */
SE_ErrorStatus SE_APP_GetActiveFwInfo2(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info)
{
    if (SE_APP_GetActiveFwInfo(status, info) != SE_SUCCESS) {
        return SE_ERROR;
    }
    uint32_t boots = 0;
#if defined(SPB_TRIAL) && SPB_TRIAL
    info->ActiveFwState = (uint8_t)trial_state(&boots);
    info->TrialBootsMax = (uint8_t)SPB_TRIAL_BOOTS;
#else
    info->ActiveFwState = SE_APP_FW_CONFIRMED;
    info->TrialBootsMax = 0u;
#endif
    info->TrialBoots = (uint8_t)boots;
    info->reserved = 0u;
    return SE_SUCCESS;
}

SE_ErrorStatus SE_APP_Confirm(SE_StatusTypeDef *status)
{
#if defined(SPB_TRIAL) && SPB_TRIAL
    return result(status, trial_confirm() == 0);
#else
    return result(status, true); /* no trial boot: every image is confirmed */
#endif
}

SE_ErrorStatus SE_APP_Rollback(SE_StatusTypeDef *status)
{
#if defined(SPB_TRIAL) && SPB_TRIAL
    return result(status, trial_rollback() == 0);
#else
    return result(status, false);
#endif
}

SE_ErrorStatus SE_APP_GetBootVer(SE_StatusTypeDef *status, char *buffer, uint32_t len)
{
    static const char version[] = SPB_BOOT_VERSION_STR;
    if (buffer == NULL || len == 0u) {
        if (status != NULL) {
            *status = SE_KO;
        }
        return SE_ERROR;
    }
    uint32_t n = sizeof version - 1u < len - 1u ? (uint32_t)sizeof version - 1u : len - 1u;
    memcpy(buffer, version, n);
    buffer[n] = '\0';
    if (status != NULL) {
        *status = n == sizeof version - 1u ? SE_OK : SE_KO; /* KO: truncated */
    }
    return n == sizeof version - 1u ? SE_SUCCESS : SE_ERROR;
}

/* The texts one after another, each ended by its NUL, in code order: a lookup walks past `code` of them
 * (a few hundred instructions at most) instead of indexing a 104-byte table of pointers. */
/* Firewall builds (production, L4): the application reads these texts, so they live outside the protected
 * code segment (port/common/stm32_firewall.c). */
#if defined(SPB_FIREWALL) && SPB_FIREWALL
#define SPB_APP_READABLE __attribute__((section(".fw_outside.rodata")))
#else
#define SPB_APP_READABLE
#endif

static const char unknown_status[] SPB_APP_READABLE = "Unknown status";

static const char status_texts[] SPB_APP_READABLE =
    "None\0"
    "Completed\0"
    "Invalid arg - one or more invalid arguments supplied to API\0"
    "Invalid image - firmware image header checksum failed or not present\0"
    "Invalid source image\0"
    "Invalid target image\0"
    "Invalid patch tag\0"
    "Image too large - firmware image too large to fit into section\0"
    "Image too small - firmware image size invalid\0"
    "Section not available - specified section is not available\0"
    "Section erase failure - flash driver returned erase error\0"
    "Section write failure - flash driver returned write error\0"
    "Image version failure - firmware image version is not newer than current\0"
    "Invalid section key - section partitions may have changed\0"
    "Image verify tag failure - written image header checksum failed\0"
    "Image verify alg failure - written image checksum failed\0"
    "Image decrypt failure - cannot initialize decryption engine\0"
    "Invalid state - update engine in wrong state for action\0"
    "Invalid order - data received before firmware image header\0"
    "Too few bytes - not enough bytes received to process header\0"
    "Parser error - unsupported or malformed update container\0"
    "Decryption error - error running decryption engine\0"
    "Install error - error writing the final image valid tag bytes\0"
    "Flash error - could not initialize low level flash\0"
    "Flash segment error - could not setup the flash segment read layer\0"
    "Flash cipher error - could not setup the flash cipher write layer";

const char *SE_PATCH_GetStatusCodeString(SE_PATCH_StatusCode code)
{
    if (code >= SE_PATCH_StatusCode_MAX) {
        return unknown_status;
    }
    const char *text = status_texts;
    for (uint32_t i = 0; i < (uint32_t)code; i++) {
        text += strlen(text) + 1u;
    }
    return text;
}

#if !(defined(SPB_FIREWALL) && SPB_FIREWALL) /* Firewall builds: the table of entry stubs, firewall.c */
__attribute__((section(".spb_api"), used)) const SE_API_Table spb_api_table = {
    .magic = SPB_API_MAGIC,
    .abi = SPB_API_ABI,
    .size = sizeof(SE_API_Table),
    .GetActiveFwInfo = SE_APP_GetActiveFwInfo,
    .GetBootVer = SE_APP_GetBootVer,
    .PatchInitStatus = SE_PATCH_InitStatus,
    .PatchInit = SE_PATCH_Init,
    .PatchData = SE_PATCH_Data,
    .PatchInstallAtNextReset = SE_PATCH_InstallAtNextReset,
    .PatchAbort = SE_PATCH_Abort,
    .PatchPoll = SE_PATCH_Poll,
    .StatusCodeString = SE_PATCH_GetStatusCodeString,
    .GetActiveFwInfo2 = SE_APP_GetActiveFwInfo2,
    .Confirm = SE_APP_Confirm,
    .Rollback = SE_APP_Rollback,
};
#endif
