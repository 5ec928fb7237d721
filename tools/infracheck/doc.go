// Package infracheck checks pal-keeper's deployment files offline, because
// neither Terraform nor Azure can be reached from the build machines. It is its
// own module (tools/infracheck/go.mod, so that HCL, cty and YAML stay out of the
// product's go.mod); .ci/run runs its tests as a step of their own:
//
//   - the Terraform root module in infra/ and the customer-side Lighthouse module
//     in infra/lighthouse/, parsed with github.com/hashicorp/hcl/v2 (real HCL
//     syntax errors), with the invariants of the design asserted on the syntax
//     tree and the variable validations evaluated against good and bad values;
//   - the Lighthouse ARM template and its example parameters (encoding/json);
//   - the GitHub workflows (YAML);
//   - the cross-references: every %SETTING% and connection a function.json uses
//     is defined by infra and documented; the handler's settings table as data
//     (handler/settings.json): every "terraform": "yes" setting is an app setting
//     with a row in docs/operations.md's settings table (with infra's default),
//     no other setting of the table is, and no emulator-only one is a variable;
//     and docs/deploy.md names the deploy commands in order.
//
// [CheckAll] runs everything on a repository root and returns one error per
// broken invariant, each naming the file and line. It cannot prove that
// `terraform apply` succeeds (the provider schemas are not available offline);
// it guards the decisions that make the deployment correct.
package infracheck
