// Package message decodes the onboarding message of pal-keeper into a
// [pal.Request]: from a queue or HTTP body in any of the wrappings the design
// allows (a JSON object, a JSON string holding it, base64, a CloudEvents 1.0
// envelope), from a portal's HTML form and from the query of the read-only GET.
//
// Every decoder validates strictly and reports all problems at once as a
// [*pal.Error] with [pal.CodeInvalidInput] and a Fields map. No problem text
// echoes more than a short prefix of the offending input.
package message
