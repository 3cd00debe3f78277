// Package heapmeter measures the peak heap a piece of code takes, for the
// tests that bound what one request may hold (TestLargestPageHeap and its
// kin). It samples runtime.MemStats while the code runs, under a low GC
// target so that HeapAlloc follows what is live rather than garbage not yet
// collected. Nothing else may allocate meanwhile: its callers do not run in
// parallel.
package heapmeter

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Peak runs fn and returns the most heap in use above what was in use before
// it, sampled every 200µs.
func Peak(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapAlloc
	var mu sync.Mutex
	peak := baseline
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapAlloc)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	mu.Lock()
	defer mu.Unlock()
	return peak - baseline
}
