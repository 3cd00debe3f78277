package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	runtimepprof "runtime/pprof"
	"sync"
	"time"
)

// profile starts a CPU profile of a phase when --cpuprofile is set: the end
// to end phase goes to the file named, the drain phase to that name with
// ".drain" added. The returned function stops it.
func (b *bench) profile(phase string) (func(), error) {
	if b.o.CPUProfile == "" {
		return func() {}, nil
	}
	name := b.o.CPUProfile
	if phase == "drain" {
		name += ".drain"
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := runtimepprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			runtimepprof.StopCPUProfile()
			f.Close()
		})
	}, nil
}

// servePprof serves net/http/pprof on addr until the returned function is called.
func servePprof(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
