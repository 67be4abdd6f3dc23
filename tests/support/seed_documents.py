"""The seed's example documents, verbatim (Healthie's patient management documentation)."""

CREATE_CLIENT = """mutation createClient( $first_name: String $last_name: String $email: String $skipped_email: Boolean $phone_number: String $dietitian_id: String $user_group_id: String $dont_send_welcome: Boolean) { createClient( input: { first_name: $first_name last_name: $last_name email: $email skipped_email: $skipped_email phone_number: $phone_number dietitian_id: $dietitian_id user_group_id: $user_group_id dont_send_welcome: $dont_send_welcome } ) { user { id } messages { field message } }}"""  # noqa: E501

SIGN_UP = """mutation signUp( $timezone: String $first_name: String $last_name: String $email: String $password: String $phone_number: String $invite_code: String $provider_type: String $role: String $dietitian_id: String) { signUp( input: { first_name: $first_name last_name: $last_name email: $email password: $password phone_number: $phone_number invite_code: $invite_code role: $role dietitian_id: $dietitian_id timezone: $timezone } ) { user { id } messages { field message } }}"""  # noqa: E501

GET_USER = """query getUser($id: ID) { user(id: $id) { id first_name last_name dob gender email phone_number next_appt_date }}"""  # noqa: E501

UPDATE_CLIENT = """mutation updateClient($id: ID, $first_name: String, $last_name: String, $legal_name: String, $email: String) { updateClient( input: { id: $id, first_name: $first_name, last_name: $last_name, legal_name: $legal_name, email: $email } ) { user { id first_name last_name legal_name email } messages { field message } }}"""  # noqa: E501

BULK_UPDATE_CLIENTS = """mutation bulkUpdateClients($ids: [ID!], $active_status: Boolean) { bulkUpdateClients(input: { ids: $ids, active_status: $active_status }) { users { id } messages { field message } }}"""  # noqa: E501

UPDATE_USER = """mutation updateUser($first_name: String, $legal_name: String, $last_name: String, $email: String, $id: ID) { updateUser( input: { first_name: $first_name, legal_name: $legal_name, last_name: $last_name, email: $email, id: $id } ) { user { id } messages { field message } }}"""  # noqa: E501
