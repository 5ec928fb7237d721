// Package infracheck checks pal-keeper's deployment files offline, as part of
// `go test ./...`, because neither Terraform nor Azure can be reached from the
// build machines:
//
//   - the Terraform root module in infra/ and the customer-side Lighthouse module
//     in infra/lighthouse/, parsed with github.com/hashicorp/hcl/v2 (real HCL
//     syntax errors), with the invariants of the design asserted on the syntax
//     tree and the variable validations evaluated against good and bad values;
//   - the Lighthouse ARM template and its example parameters (encoding/json);
//   - the GitHub workflows (YAML);
//   - the cross-references: every %SETTING% and connection a function.json uses
//     is defined by infra and documented, every setting the handler reads is an
//     app setting with a row in docs/operations.md's settings table (with infra's
//     default), and docs/deploy.md names the deploy commands in order.
//
// [CheckAll] runs everything on a repository root and returns one error per
// broken invariant, each naming the file and line. It cannot prove that
// `terraform apply` succeeds (the provider schemas are not available offline);
// it guards the decisions that make the deployment correct.
package infracheck
