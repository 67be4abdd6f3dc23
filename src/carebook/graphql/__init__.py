"""The GraphQL API: Healthie's names over Carebook's services."""
