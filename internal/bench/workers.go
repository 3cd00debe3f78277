package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on the worker processes' life cycle.
const (
	workerReadyMax = time.Minute      // from start to /readyz answering 200
	workerStopMax  = 10 * time.Second // from SIGTERM to SIGKILL
)

// workerProc is one `agenthooks serve --role worker` child process.
type workerProc struct {
	cmd  *exec.Cmd
	url  string        // its ops listener, http://127.0.0.1:PORT
	done chan struct{} // closed when it exited
	err  error         // its exit status, once done is closed
}

// workers are the bench's worker processes. They pause by SIGSTOP and
// resume by SIGCONT: the drain phase needs its events accepted while no
// worker claims any, and a stopped process claims none.
type workers struct {
	procs    []*workerProc
	progress func(format string, args ...any)
	stopOnce sync.Once
	peakRSS  float64 // sum of the children's VmHWM in MB, read before they were stopped
}

// startWorkers starts k worker processes of the executable exe on the
// bench's settings (getenv, over the environment environ), each listening on
// its own loopback port, and waits until every one is ready. On error the
// ones started are stopped.
func startWorkers(ctx context.Context, exe string, k int, environ []string, getenv func(string) string, logs io.Writer, progress func(string, ...any)) (_ *workers, err error) {
	w := &workers{progress: progress}
	defer func() {
		if err != nil {
			w.stop()
		}
	}()
	logs = &lockedWriter{w: logs}
	for i := range k {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("worker process %d: %w", i+1, err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(exe, "serve", "--role", "worker")
		cmd.Env = workerEnv(environ, getenv, addr)
		cmd.Stdout = logs
		cmd.Stderr = logs
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start worker process %d (%s): %w", i+1, exe, err)
		}
		p := &workerProc{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
		go func() { p.err = cmd.Wait(); close(p.done) }()
		w.procs = append(w.procs, p)
		progress("worker process %d: pid %d on %s", i+1, cmd.Process.Pid, addr)
	}
	for i, p := range w.procs {
		if err := p.waitReady(ctx); err != nil {
			return nil, fmt.Errorf("worker process %d (pid %d): %w", i+1, p.cmd.Process.Pid, err)
		}
	}
	return w, nil
}

// workerEnv is a worker's environment: environ without its AGENTHOOKS_*
// variables, then every AGENTHOOKS_* setting as the bench's getenv has it
// (the database, private endpoints allowed, the log level...), and its own
// listener.
func workerEnv(environ []string, getenv func(string) string, addr string) []string {
	names := map[string]bool{}
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AGENTHOOKS_") {
			names[k] = true
			continue
		}
		env = append(env, kv)
	}
	for _, k := range benchSettings {
		names[k] = true
	}
	for k := range names {
		if k == "AGENTHOOKS_ADDR" {
			continue
		}
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return append(env, "AGENTHOOKS_ADDR="+addr)
}

// waitReady polls the worker's /readyz until it answers 200, or fails when the
// process exits, ctx ends or workerReadyMax passes.
func (p *workerProc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, workerReadyMax)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("/readyz answered %d", resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready (%v; its log is above)", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", workerReadyMax, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Pause stops the worker processes (SIGSTOP).
func (w *workers) Pause() { w.signal(syscall.SIGSTOP) }

// Resume continues them (SIGCONT).
func (w *workers) Resume() { w.signal(syscall.SIGCONT) }

func (w *workers) signal(sig syscall.Signal) {
	for _, p := range w.procs {
		_ = p.cmd.Process.Signal(sig)
	}
}

// cpu is the worker processes' CPU time so far (user and system, from
// /proc/PID/stat).
func (w *workers) cpu() time.Duration {
	var sum time.Duration
	for _, p := range w.procs {
		sum += procCPU(p.cmd.Process.Pid)
	}
	return sum
}

// stop reads the children's peak RSS, then stops them: SIGTERM (and SIGCONT,
// should they be paused), SIGKILL after workerStopMax, and waits for each
// to exit. It returns an error when one had to be killed.
func (w *workers) stop() error {
	var err error
	w.stopOnce.Do(func() {
		for _, p := range w.procs {
			w.peakRSS += procPeakRSSMB(strconv.Itoa(p.cmd.Process.Pid))
		}
		for _, p := range w.procs {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
		deadline := time.NewTimer(workerStopMax)
		defer deadline.Stop()
		for _, p := range w.procs {
			select {
			case <-p.done:
			case <-deadline.C:
				// Past the bound: every one still running is killed.
				for _, q := range w.procs {
					_ = q.cmd.Process.Kill()
				}
				err = fmt.Errorf("worker process (pid %d) did not stop within %s of SIGTERM: killed", p.cmd.Process.Pid, workerStopMax)
				<-p.done
			}
		}
		for _, p := range w.procs {
			<-p.done
		}
		w.progress("worker processes stopped")
	})
	return err
}

// freePort asks the kernel for a free loopback port. A worker is given it
// by number; should another process take it meanwhile, the worker exits
// and the bench says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedWriter serialises the children's log lines onto one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// procCPU is process pid's CPU time so far (user and system, from
// /proc/PID/stat; 0 where it cannot be read).
func procCPU(pid int) time.Duration {
	own, _ := procTimes(pid)
	return own
}

// procTimes reads process pid's CPU time so far (user and system) and the
// CPU time of its children that it has waited for (cutime and cstime),
// from /proc/PID/stat; 0, 0 where it cannot be read.
func procTimes(pid int) (own, reaped time.Duration) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis (state is field 3, utime 14,
	// stime 15, cutime 16, cstime 17).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return 0, 0
	}
	var ticks [4]int64
	for j, v := range f[11:15] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0
		}
		ticks[j] = n
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(ticks[0]+ticks[1]) * tick, time.Duration(ticks[2]+ticks[3]) * tick
}

// postgresCPU is the CPU time so far of the processes named postgres that
// this user can read (the database server's, when it runs on this machine;
// 0 otherwise), with the time of the children they have reaped: a backend
// that exits (a connection closed, by this bench or by anyone else using
// the server) moves its time into the postmaster's, so the sum never drops
// while a phase runs.
func postgresCPU() time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		own, reaped := procTimes(pid)
		sum += own + reaped
	}
	return sum
}
