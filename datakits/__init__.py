"""The concrete datakits of this project: Pagila source and Pagila bronze."""
