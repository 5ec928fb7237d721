//go:build !palkeeper_sbrest

package main

import "github.com/Azure/azure-sdk-for-go/sdk/azcore"

// restQueues is the hook of the palkeeper_sbrest test build (queue_rest.go):
// the production build always sends over AMQP.
func restQueues(func(string) string, settings, azcore.TokenCredential) (onboarding, work queueSender, ok bool, err error) {
	return nil, nil, false, nil
}
