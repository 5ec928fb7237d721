package azure

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Names of the clouds [CloudConfig] knows, as the PAL_CLOUD setting spells them.
const (
	CloudAzurePublic       = "AzurePublic"
	CloudAzureUSGovernment = "AzureUSGovernment"
	CloudAzureChina        = "AzureChina"
)

// Clouds lists the cloud names [CloudConfig] accepts, in their canonical
// spelling: [CloudAzurePublic], [CloudAzureUSGovernment], [CloudAzureChina].
func Clouds() []string {
	return []string{CloudAzurePublic, CloudAzureUSGovernment, CloudAzureChina}
}

// CloudName returns the canonical spelling of the cloud named name (matched
// without regard to case), and false when name is none of [Clouds].
func CloudName(name string) (string, bool) {
	for _, c := range Clouds() {
		if strings.EqualFold(name, c) {
			return c, true
		}
	}
	return "", false
}

// ServiceGraph is Microsoft Graph in a configuration of [CloudConfig]: its
// endpoint and token audience in that cloud (the national clouds have their
// own Graph hosts).
const ServiceGraph cloud.ServiceName = "microsoftGraph"

// graphEndpoint is Microsoft Graph's root endpoint (also the token
// audience) in cloud (canonical name), from Microsoft's national cloud
// deployments page (docs/reference.md).
func graphEndpoint(cloud string) string {
	switch cloud {
	case CloudAzureUSGovernment:
		return "https://graph.microsoft.us"
	case CloudAzureChina:
		return "https://microsoftgraph.chinacloudapi.cn"
	default:
		return "https://graph.microsoft.com"
	}
}

// CloudConfig returns the azcore cloud configuration named name: one of
// [Clouds] (matched without regard to case, see [CloudName]).
//
// A non-empty armEndpoint replaces the cloud's Resource Manager base URL, for
// instance with an emulator's "https://127.0.0.1:8443". It must be an absolute
// https URL without query, fragment or user information. The token audience
// stays the cloud's, so the credential is asked for the same tokens as with the
// real endpoint. An emulator with a private certificate is trusted through the
// system trust store (SSL_CERT_FILE), never through an option here.
//
// The result is a copy: changing it does not change azcore's package values.
func CloudConfig(name, armEndpoint string) (cloud.Configuration, error) {
	canonical, _ := CloudName(name)
	var base cloud.Configuration
	switch canonical {
	case CloudAzurePublic:
		base = cloud.AzurePublic
	case CloudAzureUSGovernment:
		base = cloud.AzureGovernment
	case CloudAzureChina:
		base = cloud.AzureChina
	default:
		return cloud.Configuration{}, fmt.Errorf("unknown cloud %q: want %s, %s or %s",
			name, CloudAzurePublic, CloudAzureUSGovernment, CloudAzureChina)
	}
	arm, ok := base.Services[cloud.ResourceManager]
	if !ok || arm.Endpoint == "" || arm.Audience == "" {
		// azcore's arm/runtime package fills these in its init; this package imports it.
		return cloud.Configuration{}, fmt.Errorf("cloud %s: azcore has no Resource Manager configuration", name)
	}
	cfg := cloud.Configuration{
		ActiveDirectoryAuthorityHost: base.ActiveDirectoryAuthorityHost,
		Services:                     make(map[cloud.ServiceName]cloud.ServiceConfiguration, len(base.Services)),
	}
	for k, v := range base.Services {
		cfg.Services[k] = v
	}
	g := graphEndpoint(canonical)
	cfg.Services[ServiceGraph] = cloud.ServiceConfiguration{Endpoint: g, Audience: g}
	if armEndpoint != "" {
		ep, err := parseEndpoint("ARM", armEndpoint)
		if err != nil {
			return cloud.Configuration{}, err
		}
		arm.Endpoint = ep
		cfg.Services[cloud.ResourceManager] = arm
	}
	return cfg, nil
}

// SetGraphEndpoint replaces the Microsoft Graph base URL of cfg (one of
// [CloudConfig]) with endpoint, e.g. an emulator's; the same rules as the
// ARM endpoint of [CloudConfig] apply, and the token audience stays the cloud's.
func SetGraphEndpoint(cfg *cloud.Configuration, endpoint string) error {
	ep, err := parseEndpoint("Graph", endpoint)
	if err != nil {
		return err
	}
	g, ok := cfg.Services[ServiceGraph]
	if !ok {
		return errors.New("the cloud configuration has no Microsoft Graph service")
	}
	g.Endpoint = ep
	cfg.Services[ServiceGraph] = g
	return nil
}

// parseEndpoint checks an endpoint override of service what (ARM, Graph) and
// returns it without a trailing slash.
func parseEndpoint(what, s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s endpoint %q is not a URL (want e.g. https://127.0.0.1:8443): %w", what, s, err)
	}
	switch {
	case !strings.EqualFold(u.Scheme, "https"):
		return "", fmt.Errorf("%s endpoint %q: want an https URL (bearer tokens are never sent over plain http)", what, s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%s endpoint %q: want a host, e.g. https://127.0.0.1:8443", what, s)
	case u.User != nil:
		return "", fmt.Errorf("%s endpoint %q: user information is not allowed", what, u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("%s endpoint %q: query and fragment are not allowed", what, s)
	}
	return strings.TrimRight(s, "/"), nil
}
