package hostsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Trigger binding types the simulator drives.
const (
	TriggerHTTP       = "httpTrigger"
	TriggerServiceBus = "serviceBusTrigger"
	TriggerTimer      = "timerTrigger"
)

// Authorization levels of an httpTrigger (lower case).
const (
	AuthAnonymous = "anonymous"
	AuthFunction  = "function"
	AuthAdmin     = "admin"
)

// Binding is one entry of a function.json "bindings" array.
type Binding struct {
	Type      string // e.g. "serviceBusTrigger", "http", "serviceBus"
	Direction string // "in", "out" or "inout"
	Name      string
	DataType  string // "", "string", "binary" or "stream"
	// Properties holds every property of the binding as written in function.json, with
	// %SETTING% references resolved in queueName, topicName, subscriptionName and schedule.
	// Numbers are json.Number. Treat as read-only.
	Properties map[string]any
}

// String returns the string property key (matched case-insensitively), or "".
func (b Binding) String(key string) string {
	s, _ := prop(b.Properties, key).(string)
	return s
}

// Function is one function of the app, read from its function.json.
type Function struct {
	Name     string // the folder name; the handler route is "/" + Name
	Dir      string // the folder holding function.json
	Disabled bool   // "disabled": true, or the app setting AzureWebJobs.<name>.Disabled
	Trigger  Binding
	Bindings []Binding

	// TriggerType is Trigger.Type.
	TriggerType string
	// Queue is the Service Bus entity a serviceBusTrigger listens on: the resolved
	// queueName, or "<topic>/Subscriptions/<subscription>" for a topic subscription.
	Queue string
	// Schedule is the resolved NCRONTAB expression (or TimeSpan) of a timerTrigger.
	Schedule string
	// Route is the route template of an httpTrigger without the route prefix
	// (default: the function name).
	Route string
	// Methods are the allowed HTTP methods in upper case; empty means all.
	Methods []string
	// AuthLevel is the httpTrigger authLevel in lower case (default "function").
	AuthLevel string
}

func (f *Function) output(typ string) []Binding {
	var out []Binding
	for _, b := range f.Bindings {
		if strings.EqualFold(b.Type, typ) && strings.EqualFold(b.Direction, "out") {
			out = append(out, b)
		}
	}
	return out
}

// hostConfig is the part of host.json the simulator reads. encoding/json matches keys
// case-insensitively, as the host's configuration does.
type hostConfig struct {
	Version         string          `json:"version"`
	FunctionTimeout *string         `json:"functionTimeout"`
	CustomHandler   *handlerSection `json:"customHandler"`
	HTTPWorker      *handlerSection `json:"httpWorker"`
	Extensions      struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
		ServiceBus struct {
			MaxConcurrentCalls int `json:"maxConcurrentCalls"`
		} `json:"serviceBus"`
	} `json:"extensions"`
}

type handlerSection struct {
	Description struct {
		DefaultExecutablePath string   `json:"defaultExecutablePath"`
		Arguments             []string `json:"arguments"`
		WorkingDirectory      string   `json:"workingDirectory"`
	} `json:"description"`
	EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
}

func readHostConfig(appRoot string) (*hostConfig, error) {
	path := filepath.Join(appRoot, "host.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hostsim: reading host.json: %w", err)
	}
	var cfg hostConfig
	if err := json.Unmarshal(stripComments(data), &cfg); err != nil {
		return nil, fmt.Errorf("hostsim: parsing %s: %w", path, err)
	}
	if cfg.Version != "2.0" {
		return nil, fmt.Errorf("hostsim: %s: \"version\" must be \"2.0\" (got %q)", path, cfg.Version)
	}
	if cfg.CustomHandler == nil {
		cfg.CustomHandler = cfg.HTTPWorker // deprecated name; customHandler wins
	}
	return &cfg, nil
}

// settings are the app settings (the handler's environment) used to resolve %NAME%.
// Lookups try the exact name first, then ignore case, like .NET configuration.
type settings struct {
	exact  map[string]string
	folded map[string]string
}

func newSettings(env []string) settings {
	s := settings{exact: map[string]string{}, folded: map[string]string{}}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		s.exact[k] = v
		s.folded[strings.ToLower(k)] = v
	}
	return s
}

func (s settings) get(name string) (string, bool) {
	if v, ok := s.exact[name]; ok {
		return v, true
	}
	v, ok := s.folded[strings.ToLower(name)]
	return v, ok
}

var settingRef = regexp.MustCompile(`%([^%]+)%`)

// resolve replaces every %NAME% in s with the setting's value. With strict, an unknown
// setting is an error (binding expressions); otherwise it is left as written
// (Environment.ExpandEnvironmentVariables in customHandler.description).
func (s settings) resolve(v string, strict bool) (string, error) {
	var missing []string
	out := settingRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[1 : len(ref)-1]
		if val, ok := s.get(name); ok {
			return val
		}
		missing = append(missing, name)
		return ref
	})
	if strict && len(missing) > 0 {
		return "", fmt.Errorf("'%%%s%%' does not resolve to a value: no app setting %q", missing[0], missing[0])
	}
	return out, nil
}

// resolvedProperties are the binding properties the host resolves %NAME% in
// ([AutoResolve] on the Service Bus attributes, the timer's schedule).
var resolvedProperties = []string{"queueName", "topicName", "subscriptionName", "schedule"}

var functionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-]{0,127}$`)

// loadFunctions reads every function.json of the app, in both layouts:
// <root>/<name>/function.json (deployed package) and <root>/functions/<name>/function.json
// (repository).
func loadFunctions(appRoot string, st settings) ([]*Function, error) {
	var dirs []string
	for _, parent := range []string{appRoot, filepath.Join(appRoot, "functions")} {
		entries, err := os.ReadDir(parent)
		if err != nil {
			if parent != appRoot && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("hostsim: reading %s: %w", parent, err)
		}
		for _, e := range entries {
			dir := filepath.Join(parent, e.Name())
			if fi, err := os.Stat(filepath.Join(dir, "function.json")); err == nil && !fi.IsDir() {
				dirs = append(dirs, dir)
			}
		}
	}
	seen := map[string]string{}
	var fns []*Function
	for _, dir := range dirs {
		f, err := loadFunction(dir, st)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(f.Name)
		if other, ok := seen[key]; ok {
			return nil, fmt.Errorf("hostsim: function %q is defined twice: %s and %s", f.Name, other, dir)
		}
		seen[key] = dir
		fns = append(fns, f)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	return fns, nil
}

func loadFunction(dir string, st settings) (*Function, error) {
	name := filepath.Base(dir)
	path := filepath.Join(dir, "function.json")
	if !functionName.MatchString(name) {
		return nil, fmt.Errorf("hostsim: %s: %q is not a valid function name", path, name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	var doc struct {
		Disabled any              `json:"disabled"`
		Bindings []map[string]any `json:"bindings"`
	}
	dec := json.NewDecoder(bytes.NewReader(stripComments(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("hostsim: parsing %s: %w", path, err)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hostsim: function %s (%s): %s", name, path, fmt.Sprintf(format, args...))
	}
	f := &Function{Name: name, Dir: dir, Disabled: truthy(doc.Disabled)}
	if v, ok := st.get("AzureWebJobs." + name + ".Disabled"); ok && truthy(v) {
		f.Disabled = true
	}
	triggers := 0
	for i, props := range doc.Bindings {
		b := Binding{Properties: props}
		b.Type, b.Direction, b.Name, b.DataType = b.String("type"), b.String("direction"), b.String("name"), b.String("dataType")
		if b.Type == "" || b.Name == "" {
			return nil, fail("binding %d needs a \"type\" and a \"name\"", i)
		}
		for _, key := range resolvedProperties {
			k, v, ok := propEntry(props, key)
			s, isString := v.(string)
			if !ok || !isString {
				continue
			}
			r, err := st.resolve(s, true)
			if err != nil {
				return nil, fail("binding %q %s: %v", b.Name, key, err)
			}
			props[k] = r
		}
		if hasSuffixFold(b.Type, "Trigger") {
			triggers++
			if b.Direction == "" {
				b.Direction = "in"
			}
			f.Trigger = b
		}
		f.Bindings = append(f.Bindings, b)
	}
	if triggers != 1 {
		return nil, fail("needs exactly one trigger binding, has %d", triggers)
	}
	f.TriggerType = f.Trigger.Type
	tr := f.Trigger
	switch {
	case strings.EqualFold(tr.Type, TriggerServiceBus):
		switch queue, topic, sub := tr.String("queueName"), tr.String("topicName"), tr.String("subscriptionName"); {
		case queue != "":
			f.Queue = queue
		case topic != "" && sub != "":
			f.Queue = topic + "/Subscriptions/" + sub
		default:
			return nil, fail("serviceBusTrigger needs queueName, or topicName and subscriptionName")
		}
		if strings.EqualFold(tr.String("cardinality"), "many") {
			return nil, fail("serviceBusTrigger cardinality \"many\" (batches) is not supported by hostsim")
		}
	case strings.EqualFold(tr.Type, TriggerTimer):
		f.Schedule = tr.String("schedule")
		if _, err := parseSchedule(f.Schedule); err != nil {
			return nil, fail("timerTrigger schedule %q: %v", f.Schedule, err)
		}
	case strings.EqualFold(tr.Type, TriggerHTTP):
		f.Route = strings.Trim(tr.String("route"), "/")
		if f.Route == "" {
			f.Route = name
		}
		if _, err := parseRoute(f.Route); err != nil {
			return nil, fail("httpTrigger route %q: %v", f.Route, err)
		}
		if methods, ok := prop(tr.Properties, "methods").([]any); ok {
			for _, m := range methods {
				if s, ok := m.(string); ok && s != "" {
					f.Methods = append(f.Methods, strings.ToUpper(s))
				}
			}
		}
		f.AuthLevel = strings.ToLower(tr.String("authLevel"))
		switch f.AuthLevel {
		case "":
			f.AuthLevel = AuthFunction
		case AuthAnonymous, AuthFunction, AuthAdmin:
		default:
			return nil, fail("httpTrigger authLevel %q is not supported (anonymous, function, admin)", f.AuthLevel)
		}
	}
	return f, nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		return err == nil && b
	}
	return false
}

// prop returns the value of key in m, matching the key case-insensitively.
func prop(m map[string]any, key string) any {
	_, v, _ := propEntry(m, key)
	return v
}

func propEntry(m map[string]any, key string) (string, any, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v, true
		}
	}
	return "", nil, false
}

// parseTimeSpan parses a .NET TimeSpan as host.json writes it: "[-][d.]hh:mm[:ss[.fffffff]]"
// or a whole number of days.
func parseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	bad := fmt.Errorf("%q is not a TimeSpan (expected [d.]hh:mm:ss)", s)
	var days int64
	if !strings.Contains(body, ":") {
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return 0, bad
		}
		days = n
		body = "0:0"
	} else if d, rest, ok := strings.Cut(body, "."); ok && strings.Contains(rest, ":") && !strings.Contains(d, ":") {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return 0, bad
		}
		days, body = n, rest
	}
	parts := strings.Split(body, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	hours, err1 := strconv.Atoi(parts[0])
	minutes, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || hours < 0 || hours > 23 || minutes < 0 || minutes > 59 {
		return 0, bad
	}
	var seconds float64
	if len(parts) == 3 {
		v, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || v < 0 || v >= 60 {
			return 0, bad
		}
		seconds = v
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(hours)*time.Hour +
		time.Duration(minutes)*time.Minute + time.Duration(seconds*float64(time.Second))
	if neg {
		d = -d
	}
	return d, nil
}

// formatTimeSpan prints d as .NET's TimeSpan.ToString() does: [-][d.]hh:mm:ss[.fffffff].
func formatTimeSpan(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := fmt.Sprintf("%02d:%02d:%02d", d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second)
	if ticks := d % time.Second / 100; ticks > 0 {
		s += fmt.Sprintf(".%07d", ticks)
	}
	if days > 0 {
		s = fmt.Sprintf("%d.%s", days, s)
	}
	return sign + s
}

// stripComments removes // and /* */ comments outside strings: the host parses host.json
// and function.json with Newtonsoft, which accepts them.
func stripComments(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				return out
			}
			i += j - 1
			continue
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			j := bytes.Index(data[i+2:], []byte("*/"))
			if j < 0 {
				return data // unterminated: let the parser report it
			}
			out = append(out, ' ')
			i += j + 3
			continue
		}
		out = append(out, c)
	}
	return out
}
