/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application interface: the table at the fixed address SE_API (SPB_BOOT_BASE + SPB_VECTOR_SIZE)
 * and the small calls that are not part of the update engine.
 */
#include <string.h>

#include "image.h"
#include "se_interface.h"

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

static const char *const status_strings[SE_PATCH_StatusCode_MAX] = {
    "None",
    "Completed",
    "Invalid arg - one or more invalid arguments supplied to API",
    "Invalid image - firmware image header checksum failed or not present",
    "Invalid source image",
    "Invalid target image",
    "Invalid patch tag",
    "Image too large - firmware image too large to fit into section",
    "Image too small - firmware image size invalid",
    "Section not available - specified section is not available",
    "Section erase failure - flash driver returned erase error",
    "Section write failure - flash driver returned write error",
    "Image version failure - firmware image version is not newer than current",
    "Invalid section key - section partitions may have changed",
    "Image verify tag failure - written image header checksum failed",
    "Image verify alg failure - written image checksum failed",
    "Image decrypt failure - cannot initialize decryption engine",
    "Invalid state - update engine in wrong state for action",
    "Invalid order - data received before firmware image header",
    "Too few bytes - not enough bytes received to process header",
    "Parser error - unsupported or malformed update container",
    "Decryption error - error running decryption engine",
    "Install error - error writing the final image valid tag bytes",
    "Flash error - could not initialize low level flash",
    "Flash segment error - could not setup the flash segment read layer",
    "Flash cipher error - could not setup the flash cipher write layer",
};

const char *SE_PATCH_GetStatusCodeString(SE_PATCH_StatusCode code)
{
    return code < SE_PATCH_StatusCode_MAX ? status_strings[code] : "Unknown status";
}

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
};
