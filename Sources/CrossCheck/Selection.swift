/// The k-th smallest of `values` (0-based), what `values.sorted()[k]` gives, in linear expected
/// time: the medians behind the robust σ, the energy scale and the trimmed fits are taken over
/// hundreds of thousands of pixels, where a full sort cost a tenth of the comparison.
func kthSmallest<T: Comparable>(_ values: [T], _ k: Int) -> T {
    precondition(values.indices.contains(k))
    var a = values
    var (lo, hi) = (0, a.count - 1)
    while lo < hi {
        // Median of three as the pivot; Hoare partition.
        let mid = lo + (hi - lo) / 2
        if a[mid] < a[lo] { a.swapAt(mid, lo) }
        if a[hi] < a[lo] { a.swapAt(hi, lo) }
        if a[hi] < a[mid] { a.swapAt(hi, mid) }
        let pivot = a[mid]
        var (i, j) = (lo, hi)
        while i <= j {
            while a[i] < pivot { i += 1 }
            while pivot < a[j] { j -= 1 }
            if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
    }
    return a[k]
}
