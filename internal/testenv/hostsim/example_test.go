package hostsim_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// An end-to-end test starts the built handler, sends a queue message and an HTTP
// request, and fires the timer.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	host, err := hostsim.Start(ctx, hostsim.Options{
		AppRoot:    ".",                // host.json and functions/<name>/function.json
		Executable: "/tmp/bin/handler", // built by the test
		Env:        append(os.Environ(), "PAL_ONBOARDING_QUEUE=pal-onboarding", "PAL_SWEEP_QUEUE=pal-sweep"),
		Stderr:     os.Stderr,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _, _ = host.Stop(ctx) }()

	q := host.Queue("pal-onboarding")
	q.Send([]byte(`{"tenantId":"00000000-0000-0000-0000-000000000001"}`), &hostsim.MessageOptions{ContentType: "application/json"})
	if err := host.DrainQueue(ctx, "pal-onboarding"); err != nil {
		fmt.Println(err)
	}
	for _, m := range q.DeadLettered() {
		fmt.Println(m.Reason, m.DeliveryCount, m.Description)
	}

	res, err := host.HTTP(ctx, "GET", "/api/links?tenantId=00000000-0000-0000-0000-000000000001&code="+host.FunctionKey(), nil, nil)
	if err == nil {
		fmt.Println(res.StatusCode, string(res.Body))
	}

	if inv, err := host.Timer(ctx, "sweep", false); err == nil && inv.Failed {
		fmt.Println("sweep failed:", inv.Err)
	}
}
