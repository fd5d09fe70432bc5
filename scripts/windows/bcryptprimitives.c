/* bcryptprimitives.dll for Wine before 9.0, which lacks it: Rust's std on
 * Windows 10+ draws its random bytes from ProcessPrng here. This one asks
 * RtlGenRandom (advapi32's SystemFunction036), which every Wine has.
 * Only the smoke test uses it (scripts/windows-smoke.sh puts it beside
 * wf.exe); on Windows the system's own DLL is loaded. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
