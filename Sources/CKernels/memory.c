// Heap settings for a process that allocates and frees tens of megabytes per scan.
#include "CKernels.h"

#include <malloc.h>

void vigil_keep_freed_memory(void) {
    // By default glibc maps each large block with mmap and unmaps it on free, so every scan
    // page-faults its planes in again. With these thresholds freed blocks stay in the heap and the
    // next scan reuses them; the process keeps its peak, which the queue and frame limits bound.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
