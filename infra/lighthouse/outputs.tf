output "lighthouse_definition_id" {
  description = "Resource ID of the registration definition."
  value       = azurerm_lighthouse_definition.pal_keeper.id
}

output "lighthouse_assignment_id" {
  description = "Resource ID of the registration assignment (delete it to end the delegation)."
  value       = azurerm_lighthouse_assignment.pal_keeper.id
}
