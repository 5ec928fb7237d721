output "role_assignment_id" {
  description = "The role assignment that makes the partner's app (and its Partner Admin Link) count on this subscription."
  value       = azurerm_role_assignment.pal_keeper.id
}
