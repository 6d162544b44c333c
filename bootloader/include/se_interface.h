/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Application interface of the secure patching bootloader.
 *
 * The bootloader keeps a table of entry points at a fixed address (SE_API, defined by the generated
 * linker include spb_api.ld that every application links with). The functions below are inline
 * wrappers that call through that table, so a pointer to them is an ordinary Thumb function pointer
 * and a rebuilt bootloader needs no relink of the application as long as SPB_API_ABI stays the same.
 *
 * Every type crossing the boundary has a fixed width: the header does not depend on -fshort-enums.
 * None of these functions is thread-safe. SE_PATCH_Data runs on the caller's stack (see docs/api.md
 * for the measured requirement) and blocks while flash is erased or written.
 */
#ifndef SE_INTERFACE_H
#define SE_INTERFACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPB_API_MAGIC 0x41425053u /* "SPBA" */
#define SPB_API_ABI   1u

typedef uint32_t SE_ErrorStatus;
#define SE_ERROR   0u
#define SE_SUCCESS 1u

typedef uint32_t SE_StatusTypeDef;
#define SE_OK 0u
#define SE_KO 1u

/* SE_APP_ActiveFwInfo.ActiveFwState (trial boot, docs/trial-boot.md) */
#define SE_APP_FW_CONFIRMED 0u /* confirmed, or the bootloader runs without trial boot */
#define SE_APP_FW_TRIAL     1u /* in trial: SE_APP_Confirm() keeps it, else the previous image returns */
#define SE_APP_FW_ROLLBACK  2u /* in trial, SE_APP_Rollback() was called: the previous image returns at reset */

typedef struct {
    uint32_t ActiveFwVersion;  /* major<<24 | minor<<8 | patch */
    uint32_t ActiveFwSize;     /* plaintext image bytes (header size field) */
    uint8_t ActiveFwTag[32];   /* SHA-256 of the plaintext image */
    /* Since the table grew GetActiveFwInfo2 (bootloaders of ABI 1 without it report CONFIRMED, 0, 0): */
    uint8_t ActiveFwState;     /* SE_APP_FW_* */
    uint8_t TrialBoots;        /* starts of this image in trial so far, this one included */
    uint8_t TrialBootsMax;     /* starts without SE_APP_Confirm() after which the previous image returns */
    uint8_t reserved;
} SE_APP_ActiveFwInfo;

typedef uint8_t SE_PATCH_ImageType;
#define SE_PATCH_ImageType_NONE 0u /* type decided by the stream (.sfb or .sfbp) */
#define SE_PATCH_ImageType_APP  1u
#define SE_PATCH_ImageType_BOOT 2u /* not supported: rejected with INVALID_ARG */

typedef uint16_t SE_PATCH_RebootDelay;
#define SE_PATCH_RebootDelay_NEXT    0x0000u /* mark for install as soon as the image is verified */
#define SE_PATCH_RebootDelay_COMMAND 0xFFFFu /* wait for SE_PATCH_InstallAtNextReset() */

typedef struct {
    SE_PATCH_ImageType type;
    uint8_t reserved;
    SE_PATCH_RebootDelay rebootDelay;
    uint32_t totalLength; /* bytes of the .sfb/.sfbp stream; 0 = unknown (checked from the header) */
} SE_PATCH_StartInfo;

typedef uint8_t SE_PATCH_StatusCode;
#define SE_PATCH_StatusCode_NONE                     0u
#define SE_PATCH_StatusCode_COMPLETED                1u
#define SE_PATCH_StatusCode_INVALID_ARG              2u
#define SE_PATCH_StatusCode_INVALID_PATCH_IMAGE      3u
#define SE_PATCH_StatusCode_INVALID_SOURCE_IMAGE     4u
#define SE_PATCH_StatusCode_INVALID_TARGET_IMAGE     5u
#define SE_PATCH_StatusCode_INVALID_PATCH_TAG        6u
#define SE_PATCH_StatusCode_IMAGE_TOO_LARGE          7u
#define SE_PATCH_StatusCode_IMAGE_TOO_SMALL          8u
#define SE_PATCH_StatusCode_SECTION_NOT_AVAILABLE    9u
#define SE_PATCH_StatusCode_SECTION_ERASE_FAILURE    10u
#define SE_PATCH_StatusCode_SECTION_WRITE_FAILURE    11u
#define SE_PATCH_StatusCode_IMAGE_VERSION_FAILURE    12u
#define SE_PATCH_StatusCode_INVALID_SECTION_KEY      13u
#define SE_PATCH_StatusCode_IMAGE_VERIFY_TAG_FAILURE 14u
#define SE_PATCH_StatusCode_IMAGE_VERIFY_ALG_FAILURE 15u
#define SE_PATCH_StatusCode_IMAGE_DECRYPT_FAILURE    16u
#define SE_PATCH_StatusCode_INVALID_STATE            17u
#define SE_PATCH_StatusCode_INVALID_ORDER            18u
#define SE_PATCH_StatusCode_TOO_FEW_BYTES            19u
#define SE_PATCH_StatusCode_PARSER_ERROR             20u
#define SE_PATCH_StatusCode_DECRYPTION_ERROR         21u
#define SE_PATCH_StatusCode_INSTALL_ERROR            22u
#define SE_PATCH_StatusCode_FLASH_ERROR              23u
#define SE_PATCH_StatusCode_FLASH_SEGMENT_ERROR      24u
#define SE_PATCH_StatusCode_FLASH_CIPHER_ERROR       25u
#define SE_PATCH_StatusCode_MAX                      26u

typedef uint8_t SE_PATCH_Stage;
#define SE_PATCH_Stage_IDLE     0u /* nothing in progress */
#define SE_PATCH_Stage_HEADER   1u /* collecting the signed header(s); nothing written yet */
#define SE_PATCH_Stage_DATA     2u /* header authenticated, writing SLOT1 */
#define SE_PATCH_Stage_VERIFIED 3u /* image written and verified; not yet marked for install */
#define SE_PATCH_Stage_READY    4u /* marked: the bootloader installs it at the next reset */
#define SE_PATCH_Stage_ERROR    5u /* rejected; status says why; call SE_PATCH_Abort() */

typedef struct {
    SE_PATCH_StatusCode status;
    SE_PATCH_Stage stage;
    uint8_t completed; /* 1 once the image is written and verified (stage VERIFIED or READY) */
    uint8_t percent;   /* progress of the stream, 0..100 */
    uint32_t received; /* bytes of the stream consumed */
    uint32_t total;    /* bytes expected (from the header once known) */
} SE_PATCH_Status;

typedef struct {
    uint32_t magic; /* SPB_API_MAGIC */
    uint16_t abi;   /* SPB_API_ABI */
    uint16_t size;  /* sizeof(SE_API_Table) */
    SE_ErrorStatus (*GetActiveFwInfo)(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info);
    SE_ErrorStatus (*GetBootVer)(SE_StatusTypeDef *status, char *buffer, uint32_t len);
    void (*PatchInitStatus)(SE_PATCH_Status *status);
    SE_ErrorStatus (*PatchInit)(SE_PATCH_Status *status, const SE_PATCH_StartInfo *info);
    SE_ErrorStatus (*PatchData)(SE_PATCH_Status *status, const uint8_t *data, uint32_t len);
    SE_ErrorStatus (*PatchInstallAtNextReset)(SE_PATCH_Status *status);
    SE_ErrorStatus (*PatchAbort)(SE_PATCH_Status *status);
    SE_ErrorStatus (*PatchPoll)(SE_PATCH_Status *status);
    const char *(*StatusCodeString)(SE_PATCH_StatusCode code);
    /* Appended (ABI 1 tables end above; `size` tells): trial boot, docs/trial-boot.md */
    SE_ErrorStatus (*GetActiveFwInfo2)(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info);
    SE_ErrorStatus (*Confirm)(SE_StatusTypeDef *status);
    SE_ErrorStatus (*Rollback)(SE_StatusTypeDef *status);
} SE_API_Table;

/* The table has entry `field` (a bootloader built before it was added has a shorter table). */
#define SE_API_HAS(table, field) ((table).size >= offsetof(SE_API_Table, field) + sizeof((table).field))

#ifdef SPB_BOOTLOADER_BUILD
/* Inside the bootloader these are the implementations the table points to. */
SE_ErrorStatus SE_APP_GetActiveFwInfo(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info);
SE_ErrorStatus SE_APP_GetBootVer(SE_StatusTypeDef *status, char *buffer, uint32_t len);
void SE_PATCH_InitStatus(SE_PATCH_Status *status);
SE_ErrorStatus SE_PATCH_Init(SE_PATCH_Status *status, const SE_PATCH_StartInfo *info);
SE_ErrorStatus SE_PATCH_Data(SE_PATCH_Status *status, const uint8_t *data, uint32_t len);
SE_ErrorStatus SE_PATCH_InstallAtNextReset(SE_PATCH_Status *status);
SE_ErrorStatus SE_PATCH_Abort(SE_PATCH_Status *status);
SE_ErrorStatus SE_PATCH_Poll(SE_PATCH_Status *status);
const char *SE_PATCH_GetStatusCodeString(SE_PATCH_StatusCode code);
SE_ErrorStatus SE_APP_GetActiveFwInfo2(SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info);
SE_ErrorStatus SE_APP_Confirm(SE_StatusTypeDef *status);
SE_ErrorStatus SE_APP_Rollback(SE_StatusTypeDef *status);
#else
/* Placed by the linker include generated for the board (build/<BOARD>/spb_api.ld). */
extern const SE_API_Table SE_API;

static inline int SE_API_Present(void)
{
    return SE_API.magic == SPB_API_MAGIC && SE_API.abi == SPB_API_ABI;
}
/* Version, size, tag and trial state of the running image. */
static inline SE_ErrorStatus SE_APP_GetActiveFwInfo(SE_StatusTypeDef *s, SE_APP_ActiveFwInfo *i)
{
    if (SE_API_HAS(SE_API, GetActiveFwInfo2)) {
        return SE_API.GetActiveFwInfo2(s, i);
    }
    if (i != NULL) {
        i->ActiveFwState = SE_APP_FW_CONFIRMED;
        i->TrialBoots = i->TrialBootsMax = i->reserved = 0u;
    }
    return SE_API.GetActiveFwInfo(s, i);
}
/* The running image is healthy: keep it. SE_SUCCESS also when there is no trial (nothing to confirm). */
static inline SE_ErrorStatus SE_APP_Confirm(SE_StatusTypeDef *s)
{
    if (SE_API_HAS(SE_API, Confirm)) {
        return SE_API.Confirm(s);
    }
    if (s != NULL) {
        *s = SE_OK;
    }
    return SE_SUCCESS;
}
/* In trial only: return to the previous image at the next reset. SE_ERROR when confirmed or no trial. */
static inline SE_ErrorStatus SE_APP_Rollback(SE_StatusTypeDef *s)
{
    if (SE_API_HAS(SE_API, Rollback)) {
        return SE_API.Rollback(s);
    }
    if (s != NULL) {
        *s = SE_KO;
    }
    return SE_ERROR;
}
static inline SE_ErrorStatus SE_APP_GetBootVer(SE_StatusTypeDef *s, char *b, uint32_t n) { return SE_API.GetBootVer(s, b, n); }
static inline void SE_PATCH_InitStatus(SE_PATCH_Status *s) { SE_API.PatchInitStatus(s); }
static inline SE_ErrorStatus SE_PATCH_Init(SE_PATCH_Status *s, const SE_PATCH_StartInfo *i) { return SE_API.PatchInit(s, i); }
static inline SE_ErrorStatus SE_PATCH_Data(SE_PATCH_Status *s, const uint8_t *d, uint32_t n) { return SE_API.PatchData(s, d, n); }
static inline SE_ErrorStatus SE_PATCH_InstallAtNextReset(SE_PATCH_Status *s) { return SE_API.PatchInstallAtNextReset(s); }
static inline SE_ErrorStatus SE_PATCH_Abort(SE_PATCH_Status *s) { return SE_API.PatchAbort(s); }
static inline SE_ErrorStatus SE_PATCH_Poll(SE_PATCH_Status *s) { return SE_API.PatchPoll(s); }
static inline const char *SE_PATCH_GetStatusCodeString(SE_PATCH_StatusCode c) { return SE_API.StatusCodeString(c); }
#endif

/* Version helpers: u32 = major<<24 | minor<<8 | patch (minor is 16 bits). */
#define SE_VERSION_MAJOR(v) (((v) >> 24) & 0xFFu)
#define SE_VERSION_MINOR(v) (((v) >> 8) & 0xFFFFu)
#define SE_VERSION_PATCH(v) ((v) & 0xFFu)

#ifdef __cplusplus
}
#endif
#endif
