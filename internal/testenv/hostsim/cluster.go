package hostsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// Cluster is a function app scaled out to several instances: N handler processes,
// each under its own simulated host, consuming the same Service Bus queues. A queue
// message goes to whichever process has a free delivery slot (each process honours
// maxConcurrentCalls, from host.json or Options.MaxConcurrentCalls), a timer fires on
// one process (the instance holding the schedule's singleton lock: the first), and the
// HTTP front end routes each request to the next process in turn. With
// Options.ServiceBusREST every process gets the same REST send endpoint, so work one
// process sends is delivered to any of them.
//
// A Cluster is safe for concurrent use.
type Cluster struct {
	hosts []*Host
	rest  *restServer
	next  atomic.Uint64
}

// StartCluster starts processes handler processes with opts (AutoDeliver starts the
// delivery loops of every process) and waits until all are ready.
func StartCluster(ctx context.Context, opts Options, processes int) (*Cluster, error) {
	if processes < 1 {
		return nil, fmt.Errorf("hostsim: a cluster needs at least one process, not %d", processes)
	}
	queues := newQueueSet()
	c := &Cluster{}
	if opts.ServiceBusREST != "" {
		rest, err := startREST(queues)
		if err != nil {
			return nil, err
		}
		c.rest = rest
		opts.Env = append(append([]string(nil), opts.Env...), opts.ServiceBusREST+"="+rest.url)
	}
	hosts := make([]*Host, processes)
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hosts[i], errs[i] = start(ctx, opts, queues)
		}()
	}
	wg.Wait()
	for _, h := range hosts {
		if h != nil {
			c.hosts = append(c.hosts, h)
		}
	}
	if err := errors.Join(errs...); err != nil {
		_, _ = c.Stop(context.Background())
		return nil, err
	}
	return c, nil
}

// Hosts returns the cluster's processes (each a Host with its own handler process).
func (c *Cluster) Hosts() []*Host { return append([]*Host(nil), c.hosts...) }

// Queue returns the queue all processes consume (see Host.Queue).
func (c *Cluster) Queue(name string) *Queue { return c.hosts[0].Queue(name) }

// ServiceBusURL is the REST send endpoint's base URL ("" without Options.ServiceBusREST).
func (c *Cluster) ServiceBusURL() string {
	if c.rest == nil {
		return ""
	}
	return c.rest.url
}

// Timer fires a timerTrigger function on one process (see Host.Timer).
func (c *Cluster) Timer(ctx context.Context, function string, isPastDue bool) (*InvocationResult, error) {
	return c.hosts[0].Timer(ctx, function, isPastDue)
}

// pick returns the process the front end routes the next request to.
func (c *Cluster) pick() *Host {
	return c.hosts[int((c.next.Add(1)-1)%uint64(len(c.hosts)))]
}

// HTTP sends a request to the function app; the front end routes it to the processes
// in turn (see Host.HTTP).
func (c *Cluster) HTTP(ctx context.Context, method, pathAndQuery string, header http.Header, body []byte) (*HTTPResult, error) {
	return c.pick().HTTP(ctx, method, pathAndQuery, header, body)
}

// ServeHTTP is the front end as an http.Handler (see Host.ServeHTTP), routing each
// request to the processes in turn.
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.pick().ServeHTTP(w, r) }

// DrainQueue delivers the named queue's messages with every process until the queue
// holds nothing (see Host.DrainQueue).
func (c *Cluster) DrainQueue(ctx context.Context, name string) error {
	errs := make([]error, len(c.hosts))
	var wg sync.WaitGroup
	for i, h := range c.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.DrainQueue(ctx, name)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stop stops every process (see Host.Stop) and the REST endpoint; it returns the
// first process's exit code and every error.
func (c *Cluster) Stop(ctx context.Context) (int, error) {
	codes := make([]int, len(c.hosts))
	errs := make([]error, len(c.hosts))
	var wg sync.WaitGroup
	for i, h := range c.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = h.Stop(ctx)
		}()
	}
	wg.Wait()
	if c.rest != nil {
		c.rest.close()
	}
	code := -1
	if len(codes) > 0 {
		code = codes[0]
	}
	return code, errors.Join(errs...)
}
