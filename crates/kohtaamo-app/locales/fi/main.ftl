app-name = Kohtaamo
skip-to-content = Siirry sisältöön
nav-main = Päävalikko
nav-home = Etusivu
nav-catalogue = Palvelukatalogi
nav-units = Yksiköt
nav-workspaces = Työtilat
nav-language = Kieli
lang-name-en = English
lang-name-fi = Suomi
signed-in-as = Kirjautuneena: { $name }
logout = Kirjaudu ulos
login-title = Kirjaudu Kohtaamoon
login-username = Käyttäjätunnus
login-password = Salasana
login-submit = Kirjaudu
login-failed = Väärä käyttäjätunnus tai salasana.
login-rate-limited = Liian monta yritystä. Yritä uudelleen minuutin kuluttua.
workspaces-title = Työtilasi
workspaces-empty = Et ole vielä minkään työtilan jäsen.
role-admin = Ylläpitäjä
role-editor = Muokkaaja
role-viewer = Katselija
home-title = Yleiskuva
home-counts = Tässä työtilassa
count-units = Yksiköt
count-segments = Asiakassegmentit
count-packages = Palvelupaketit
count-journeys = Asiakasmatkat
count-touchpoints = Kosketuspisteet
count-relations = Asiakassuhteet
stale-title = Kuka on asiakkaani -vastaukset, jotka pitää tarkistaa
stale-none = Kaikki vastaukset on tarkistettu ajallaan.
no-core-title = Palvelupaketit ilman ydinpalvelua
no-core-none = Jokaisella paketilla on ydinpalvelu.
journeys-title = Asiakasmatkat
journeys-none = Ei vielä asiakasmatkoja.
touchpoint-count = { $count ->
    [one] { $count } kosketuspiste
   *[other] { $count } kosketuspistettä
}
stage-count = { $count ->
    [one] { $count } vaihe
   *[other] { $count } vaihetta
}
element-count = { $count ->
    [one] { $count } osa
   *[other] { $count } osaa
}
col-provider = Palvelun tuottaja
col-customer = Asiakas
col-last-reviewed = Tarkistettu viimeksi
col-name = Nimi
col-status = Tila
col-core = Ydinpalvelut
col-role = Rooli
col-kind = Tyyppi
col-visible = Näkyy asiakkaalle
col-it = IT-komponentteja
col-owner = Omistaja
col-value = Miten työmme auttaa heitä
col-customer-kind = Asiakkaan laji
col-channel = Kanava
col-lane = Kaista
col-journey = Asiakasmatka
col-duration = Kesto
col-serves = Palvelee
col-parent = Osa yksikköä
never = ei koskaan
yes = kyllä
no = ei
nobody = ei kukaan
status-published = Julkaistu
status-draft = Luonnos
catalogue-title = Palvelukatalogi
catalogue-empty = Ei vielä palvelupaketteja.
package-diagram = Palvelupaketin kuva
package-elements = Osat
package-download-svg = Lataa kuva (SVG)
package-no-core-warning = Paketilla ei ole ydinpalvelua, joten sitä ei voi julkaista.
legend = Selite
legend-visible = Yhtenäinen reunaviiva: näkyy asiakkaalle
legend-hidden = Katkoviiva: piilossa asiakkaalta
legend-it = IT: sisältää IT-komponentteja
it-badge = IT
role-core = Ydin
role-enabling = Mahdollistava
role-complementary = Täydentävä
ring-core = Ydinpalvelut
ring-enabling = Mahdollistavat palvelut (ilman niitä ydinpalvelua ei voi käyttää)
ring-complementary = Täydentävät palvelut (ne parantavat ydinpalvelua)
kind-service = Palvelu
kind-product = Tuote
diagram-title = Palvelupaketti { $name }
journey-map = Asiakasmatkan kartta
journey-blueprint = Palvelupiirustus
journey-download-map = Lataa asiakasmatkan kartta (SVG)
journey-download-blueprint = Lataa palvelupiirustus (SVG)
journey-for-segment = Asiakkaana { $name }
journey-print-hint = Tulosta sivu, niin saat A3-vaakasuuntaisen kopion.
row-touchpoints = Kosketuspisteet
row-channels = Kanavat
row-owners = Omistajat
row-emotion = Tunne
row-moments = Totuuden hetket
moment-of-truth = Totuuden hetki
lane-customer-action = Asiakkaan toiminta
lane-frontstage = Näkyvä palvelu
lane-backstage = Taustatoiminta
lane-support-process = Tukiprosessit
line-interaction = Vuorovaikutuksen raja
line-visibility = Näkyvyyden raja
line-internal-interaction = Sisäisen vuorovaikutuksen raja
row-process-steps = Prosessivaiheet
channel-web = Verkko
channel-mobile-app = Mobiilisovellus
channel-phone = Puhelin
channel-email = Sähköposti
channel-chat = Chat
channel-in-person = Kasvokkain
channel-ticket-machine = Lippuautomaatti
channel-letter = Kirje
channel-social-media = Sosiaalinen media
interface-company-customer = Yritys–asiakas
interface-employee-employee = Työntekijä–työntekijä
interface-company-partner = Yritys–kumppani
interface-company-society = Yritys–yhteiskunta
interface-customer-customer = Asiakas–asiakas
units-title = Yksiköt
unit-my-customers = Keitä asiakkaamme ovat
unit-my-customers-none = Yksikkö ei ole kirjannut, keitä sen asiakkaat ovat.
unit-served-by = Ketkä pitävät meitä asiakkaanaan
unit-touchpoints = Kosketuspisteet, jotka omistamme
unit-steps = Prosessivaiheet, jotka omistamme
unit-elements = Palvelupakettien osat, jotka omistamme
unit-people = Henkilöt
customer-segment = Ulkoinen asiakas
customer-unit = Sisäinen asiakas
customer-partner = Kumppani
stale = Tarkistus myöhässä
up-to-date = Ajan tasalla
mark-reviewed = Merkitse tarkistetuksi
reviewed-done = Merkitty tarkistetuksi tänään.
none-yet = Ei vielä.
not-found-title = Ei löytynyt
not-found-text = Sivua ei ole, tai sinulla ei ole siihen pääsyä.
unavailable-text = Palvelu on hetken poissa käytöstä: sen tietokantaan ei saada yhteyttä tai levy on täynnä. Jo tallennetut tiedot ovat tallessa; yritä hetken kuluttua uudelleen.
forbidden-text = Roolisi ei salli tätä.
back-home = Takaisin alkuun
nav-edit = Muokkaa mallia
title-units = Yksiköt
title-people = Henkilöt
title-partners = Kumppanit
title-segments = Asiakassegmentit
title-relations = Kuka on asiakkaani
title-channels = Kanavat
title-elements = Palvelupakettien osat
title-packages = Palvelupaketit
title-journeys = Asiakasmatkat
title-stages = Asiakasmatkan vaiheet
title-touchpoints = Kosketuspisteet
title-process-steps = Prosessivaiheet
field-slug = Tunniste (a–z, 0–9, yhdysmerkit)
field-name = Nimi
field-description = Kuvaus
field-parent = Osa yksikköä
field-needs = Tarpeet
field-person-name = Nimi
field-email = Sähköposti
field-unit = Yksikkö
field-role-title = Tehtävänimike
field-review-interval = Tarkista joka (päivää)
field-segment = Asiakassegmentti
field-stage = Vaihe
field-element = Palvelun osa, jonka se tuottaa
field-interface = Rajapinta
field-duration = Kesto (minuuttia)
choose-none = (ei mitään)
kind-label-unit = yksikkö
kind-label-partner = kumppani
kind-label-segment = segmentti
kind-label-person = henkilö
role-not-in-package = ei tässä paketissa
err-conflict = Samalla tunnisteella on jo jotain.
err-in-use = Tätä käytetään vielä muualla; poista ne käytöt ensin.
save = Tallenna
cancel = Peruuta
delete = Poista
new = Lisää uusi
edit = Muokkaa
actions = Toiminnot
move-up = Siirrä { $name } ylemmäs
move-down = Siirrä { $name } alemmas
err-empty = Ei saa olla tyhjä.
err-too-long = Enintään { $max } merkkiä.
err-bad-slug = Käytä 1–64 merkkiä: a–z, 0–9 ja yksittäisiä yhdysmerkkejä keskellä.
err-bad-language = ”{ $value }” ei ole kielikoodi, kuten fi, en tai sv.
err-name-needs-language = Anna nimi vähintään yhdellä kielellä.
err-empty-text = Kielen { $lang } teksti on tyhjä; jätä se pois.
err-text-too-long = Kielen { $lang } teksti on yli { $max } merkkiä.
err-not-one-of = ”{ $value }” ei ole mikään vaihtoehdoista.
err-bad-channel = ”{ $value }” ei ole kanava.
err-emotion-range = Valitse arvo väliltä -2…2.
err-bad-email = Tämä ei ole sähköpostiosoite.
err-positive-id = Valitse jokin vaihtoehdoista.
err-listed-twice = Mainittu kahdesti.
err-publish-needs-core = Paketilla pitää olla vähintään yksi ydinpalvelu ennen julkaisua.
err-interval-range = Valitse 1–3650 päivää.
err-period-range = Valitse 1–365 päivää.
err-bad-date = Anna päivämäärä muodossa VVVV-KK-PP.
err-own-customer = Yksikkö ei voi olla oma asiakkaansa.
err-duration-range = Valitse 0–525600 minuuttia (vuosi).
err-unknown-ref = Tässä työtilassa ei ole tällaista kohdetta ({ $noun }).
err-unknown-ref-slug = Tässä työtilassa ei ole kohdetta ”{ $slug }” ({ $noun }).
err-cycle = Tämä tekisi kohteesta ({ $noun }) osan itseään.
err-builtin-channel = Tunniste on jo valmis kanava.
err-whole-number = Anna kokonaisluku.
err-choose-one = Valitse jokin vaihtoehdoista.
err-unknown-question = Tämä ei ole tämän kyselyn kysymys.
err-score-range = Valitse luku väliltä { $min }–{ $max }.
err-answer-type = Vastaus on väärää tyyppiä.
err-answer-required = Vastaa tähän kysymykseen.
err-no-answers = Vastaa vähintään yhteen kysymykseen.
err-not-asked-here = Tämä kysely ei koske kosketuspistettä { $id }.
err-one-target = Valitse tasan yksi: kosketuspiste, asiakasmatka tai palvelupaketti.
err-needs-questions = Kyselyssä on oltava vähintään yksi kysymys.
err-too-many = Enintään { $max }.
err-choice-count = Monivalintakysymyksessä on oltava 2–{ $max } vaihtoehtoa.
err-options-not-used = Ei käytössä tässä kysymystyypissä.
err-scale-range = Oltava välillä 3–10.
err-show-if = Viittaa aiempaan pisteytettyyn kysymykseen ja sen asteikon sisäiseen väliin.
err-bad-origin = Anna osoitteen alku, esim. https://www.example.fi (ilman polkua).
err-bad-response-id = 8–64 merkkiä: kirjaimia, numeroita, - ja _.
err-unknown-invitation = Tämä kutsulinkki ei kuulu tähän kyselyyn.
err-bad-reference = Enintään { $max } merkkiä, ei ohjausmerkkejä.
noun-unit = yksikkö
noun-partner = kumppani
noun-segment = asiakassegmentti
noun-person = henkilö
noun-element = palvelun osa
noun-package = palvelupaketti
noun-journey = asiakasmatka
noun-stage = vaihe
noun-touchpoint = kosketuspiste
noun-channel = kanava
members-title = Jäsenet
add-member = Lisää jäsen
role-of = Käyttäjän { $name } rooli
remove-member = Poista { $name }
err-no-such-user = Tällä käyttäjätunnuksella ei ole tiliä.
tokens-title = API-avaimet
tokens-intro = Avaimilla skriptit voivat käyttää rajapintaa sinun nimissäsi: lähetä "Authorization: Bearer" ja avain.
token-created = Avain luotu. Kopioi se nyt: se näytetään vain tämän kerran.
token-value = Uusi avain
token-revoked = Peruttu
token-active = Voimassa
token-new = Luo avain
revoke = Peru
revoke-token = Peru { $name }
col-created = Luotu
remove = Poista
report-title = Organisaation tilannekuva
report-date = Tilanne { $date }
report-coverage = Kuka tuntee asiakkaansa
report-units-with-customers = Yksiköt, jotka ovat kirjanneet asiakkaansa
report-units-without-customers = Yksiköt ilman kirjattuja asiakkaita
report-stale = Tarkistamatta jääneet vastaukset
report-share-external = Yksiköt, joilta on polku ulkoiseen asiakkaaseen
report-chains = Ketjut loppuasiakkaaseen
report-far = kaukana asiakkaasta, eikä kukaan ole kertonut heille, kuka se on
report-no-end-customer = asiakkaita on organisaation sisällä tai kumppaneissa, mutta mikään ketju ei ulotu loppuasiakkaaseen
report-hand-offs = Luovutukset
report-hand-off-count = { $count ->
    [one] { $count } luovutus
   *[other] { $count } luovutusta
}
report-undeclared-count = { $count ->
    [one] { $count } ilman kirjattua asiakassuhdetta
   *[other] { $count } ilman kirjattua asiakassuhdetta
}
report-at = kohdassa
report-from = Keneltä
report-to = Kenelle
report-count = Määrä
report-interfaces = Viisi rajapintaa
report-no-interface = Rajapinta puuttuu
report-interface-gaps = Kosketuspisteet ilman rajapintaa tai omistajaa
report-processes = Prosessit ja asiakasmatka
report-orphan-steps = Prosessivaiheet, jotka eivät palvele yhtään kosketuspistettä
report-unsupported = Näkyvät kosketuspisteet ilman prosessia taustalla
report-customer-steps = Asiakkaan vaiheet
report-channel-switches = Kanavanvaihdot
report-minutes = Työminuutit
report-labyrinth = Labyrinttiluku
report-packages = Palvelupaketit
report-missing-enablers = Ydinpalvelu ennen yhtään mahdollistavaa palvelua
report-none-earlier = ei aiemmin mitään näistä
report-unowned = Osat, joilla ei ole omistajaa
insight-json = Samat havainnot JSON-muodossa
insight-matrix = Luovutukset omistajien välillä
nav-insight = Tilannekuva
unit-chain = Ketju loppuasiakkaaseen
unit-notifications = Tarkistettavat
review-due-for = Tarkista kuka on asiakkaani: { $name }
due-since = erääntynyt { $date }
insight-undeclared = ei kirjattua asiakassuhdetta

## Public survey page and widget
survey-std-nps = Kuinka todennäköisesti suosittelisit meitä ystävällesi tai kollegallesi?
survey-std-csat = Kuinka tyytyväinen olit palveluumme?
survey-std-ces = Asiani hoitaminen oli helppoa.
survey-low-nps = En lainkaan todennäköisesti
survey-high-nps = Erittäin todennäköisesti
survey-low-csat = Erittäin tyytymätön
survey-high-csat = Erittäin tyytyväinen
survey-low-ces = Täysin eri mieltä
survey-high-ces = Täysin samaa mieltä
survey-condition = Jos vastasit { $range }
survey-thanks-default = Vastauksesi auttaa meitä parantamaan.
survey-thanks-title = Kiitos!
survey-submit = Lähetä
survey-required = (pakollinen)
survey-error = Tarkista vastauksesi.
survey-closed = Tämä kysely on suljettu. Kiitos mielenkiinnostasi.
survey-not-found = Tässä osoitteessa ei ole kyselyä.
survey-honeypot = Jätä tämä kenttä tyhjäksi
survey-invitation-used = Tällä henkilökohtaisella linkillä on jo vastattu. Kiitos!

## Surveys (staff)
nav-surveys = Kyselyt
surveys-title = Kyselyt
surveys-intro = Kysy asiakkailta jokaisessa kosketuspisteessä. Jokainen vastaus tallentuu sen kosketuspisteen, kanavan ja kielen kanssa, josta se tuli.
col-asks-about = Kohde
col-responses = Vastauksia
survey-new = Uusi kysely
survey-name-fi = Nimi suomeksi
survey-name-en = Nimi englanniksi
survey-template = Pohja
survey-template-nps = NPS ja jatkokysymykset
survey-template-csat = CSAT ja kommentti
survey-template-ces = CES ja kommentti
survey-create = Luo kysely
survey-status-draft = Luonnos
survey-status-active = Käytössä
survey-status-closed = Suljettu
survey-set-draft = Palauta luonnokseksi
survey-set-active = Ota käyttöön
survey-set-closed = Sulje
survey-responses-link = { $count ->
    [one] Yksi vastaus
   *[other] { $count } vastausta
}
survey-funnel = Vastausaste
funnel-shown = Näytetty
funnel-started = Vastattu
funnel-completed = Valmiita
funnel-rate = Vastausaste
survey-links = Linkit, QR-koodit ja upotus
survey-public-link = Julkinen linkki
survey-public-url-missing = Linkeissä on paikkamerkkinä localhost, koska tälle asennukselle ei ole asetettu julkista osoitetta. Ylläpitäjä asettaa KOHTAAMO_PUBLIC_URL-asetuksen (esimerkiksi https://palaute.example.fi), jotta vastaajat tavoittavat kyselyn.
qr-alt = QR-koodi: { $name }
qr-svg = QR-koodi (SVG)
qr-png = QR-koodi (PNG)
survey-widget = Upotettava kysely
survey-widget-help = Liitä tämä tagi sivulle, jonka osoite on sallittujen joukossa.
survey-questions = Kysymykset
survey-required-short = pakollinen
question-kind-nps = NPS 0–10
question-kind-csat = CSAT 1–5
question-kind-ces = CES 1–7
question-kind-rating = Arvosana
question-kind-single = Yksi vaihtoehto
question-kind-multi = Monivalinta
question-kind-text = Avoin vastaus
survey-add-question = Lisää kysymys
question-kind = Tyyppi
question-key = Tunniste (a–z, 0–9, -)
question-text-fi = Kysymys suomeksi
question-text-en = Kysymys englanniksi
question-required = Vastaus on pakollinen
question-options = Vaihtoehdot (valintakysymykset)
question-options-help = Yksi riville: tunniste = suomenkielinen nimi / englanninkielinen nimi
question-scale = Arvosana-asteikon yläpää (3–10)
question-show-if = Näytä vain, kun
question-show-if-question = vastaus kysymykseen
always = (näytetään aina)
question-show-min = on vähintään
question-show-max = ja enintään
survey-settings = Nimi, tekstit ja sallitut sivustot
survey-intro-fi = Johdanto suomeksi
survey-intro-en = Johdanto englanniksi
survey-thanks-fi = Kiitosteksti suomeksi
survey-thanks-en = Kiitosteksti englanniksi
survey-origins = Sivustot, joille kyselyn saa upottaa (yksi riville)
invitations-title = Henkilökohtaiset kutsut
invitations-count = { $count ->
    [one] Yksi käytetty
   *[other] { $count } käytetty
}
invitations-shown-once = Kopioi linkit nyt; ne näytetään vain kerran. Kullakin voi vastata kerran.
invitations-recipients = Vastaanottajat
invitations-help = Yksi riville: asiakkaan pseudonyymi tunniste, asian tunniste
invitations-create = Luo linkit
invitations-none = Anna vähintään yksi vastaanottaja.
move-up-named = Siirrä { $name } ylös
move-down-named = Siirrä { $name } alas
delete-named = Poista { $name }
responses-title = Vastaukset
responses-total = { $count ->
    [one] Yksi vastaus
   *[other] { $count } vastausta
}
filter-from = Alkaen
filter-to = Asti
filter-band = NPS-ryhmä
filter-lang = Kieli
filter-text = Teksti
filter-apply = Suodata
filter-any = Kaikki
band-promoter = Suosittelijat (9–10)
band-passive = Passiiviset (7–8)
band-detractor = Arvostelijat (0–6)
export-csv = Lataa CSV
export-xlsx = Lataa Excel
col-time = Aika
col-touchpoint = Kosketuspiste
col-score = Pisteet
col-answer = Avoin vastaus
col-complete = Valmis
partial = Kesken
pages = Sivut
page-prev = Edellinen
page-next = Seuraava
response-title = Vastaus
response-answers = Vastaukset
response-delete = Poista tämä vastaus
response-customer = Asiakkaan tunniste
response-case = Asian tunniste
response-id = Vastauksen tunniste

## Analytics
unknown = Tuntematon
nav-dashboard = Mittarit
dashboard-title = Asiakaskokemuksen mittarit
dashboard-intro = Valmiiden vastausten NPS, CSAT ja CES 95 %:n virhemarginaalilla. Alle { $min } vastauksen lukua ei näytetä.
dashboard-scopes = Ryhmittely
dashboard-previous = Verrattuna jaksoon { $period }
dashboard-previous-nps = NPS ennen
dashboard-weakest = heikoin kohtaaminen
dashboard-changed = muuttunut
dashboard-not-enough = { $n ->
    [one] liian vähän vastauksia (1)
   *[other] liian vähän vastauksia ({ $n })
}
scope-touchpoint = Kosketuspiste
scope-stage = Vaihe
scope-journey = Asiakasmatka
scope-package = Palvelupaketti
scope-element = Paketin osa
scope-segment = Asiakassegmentti
scope-unit = Yksikkö
scope-partner = Kumppani
scope-channel = Kanava
scope-language = Kieli
scope-survey = Kysely
metric-nps = NPS
metric-csat = CSAT
metric-ces = CES
themes-title = Teemat avoimissa vastauksissa
themes-help = Sanat ja kahden sanan ilmaukset (perusmuotoon katkaistuina), jotka esiintyvät vähintään viidessä vastauksessa; merkitty, kun ne ovat merkitsevästi yleisempiä tyytymättömillä (NPS 0–6, CSAT 1–2, CES 1–3) tai tyytyväisillä vastaajilla.
themes-term = Teema
themes-answers = Vastauksia
themes-low = Tyytymättömät
themes-high = Tyytyväiset
themes-example = Esimerkki
themes-more-low = yleisempi tyytymättömillä
themes-more-high = yleisempi tyytyväisillä
row-scores = Indeksi (90 pv)
drivers-title = Kunkin kosketuspisteen vaikutus ja tulos
drivers-heading = Mikä vaikuttaa asiakasmatkan { $name } NPS:ään
drivers-help = Kosketuspisteen vaikutus: sen pisteiden ja samassa asiassa annetun asiakasmatkan NPS:n korrelaatio (täytetty: merkitsevä 95 %:n tasolla). Tulos: keskiarvo asteikolla 0–100. Varjostetun kulman kosketuspisteiden parantaminen kannattaa eniten.
drivers-priority = Etusijalla: suuri vaikutus, heikko tulos
drivers-performance = Tulos (0–100)
drivers-impact = Vaikutus (korrelaatio)

## Alerts and group dashboards
nav-alerts = Hälytykset
alerts-title = Mittarihälytykset
alerts-intro = Sääntö seuraa yhtä ryhmää (kosketuspistettä, asiakasmatkaa, yksikköä, kumppania …) ja hälyttää, kun sen tulos alittaa raja-arvon tai laskee merkitsevästi edellisestä jaksosta. Jaksot ovat kokonaisia päiväjaksoja (7 päivää = maanantaista sunnuntaihin); sääntö tarvitsee vähintään 30 vastausta jokaiselta tarkastelemaltaan jaksolta. Hälytys menee säännössä nimetylle yksikölle tai ryhmän omistavalle yksikölle sovelluksessa ja työtilan webhookeihin.
alerts-raised = Hälytykset
alerts-rules = Säännöt
alerts-none = Ei hälytyksiä.
alerts-new = Uusi sääntö
alerts-for-group = Tämän ryhmän hälytyssäännöt
alert-below = { $metric } alle { $threshold }
alert-drop = { $metric } laskee merkitsevästi
alert-days = { $n ->
    [one] 1 päivä
   *[other] { $n } päivää
}
alert-previous = ennen { $value }
alert-owner-unit = omistava yksikkö
alert-condition-below = alittaa raja-arvon
alert-condition-drop = laskee merkitsevästi
alert-field-metric = Mittari
alert-field-condition = Kun se
alert-field-threshold = Raja-arvo
alert-field-days = Jakso päivinä
alert-field-unit = Ilmoita
alert-col-group = Ryhmä
alert-col-rule = Sääntö
alert-col-period = Jakso
alert-col-finding = Tulos
alert-col-unit = Yksikkö
alert-col-count = Hälytyksiä
alert-add = Lisää sääntö
unit-alerts = Mittarihälytykset
group-back = Kaikki ryhmät
group-touchpoints = Kosketuspisteet heikoimmasta alkaen
group-weakest = { $name }: { $score }
col-response-rate = Vastausosuus (näytetty)
dashboard-period = Jakso
unit-scores-link = Kosketuspisteideni tulokset, kehitys ja hälytyssäännöt
trend-day = Koko työtilan kokemusindeksi, NPS, CSAT ja CES päivittäin samalla asteikolla 0–100 (piste jokaiselta päivältä, jolla on vähintään 30 vastausta)
trend-week = Koko työtilan kokemusindeksi, NPS, CSAT ja CES viikoittain samalla asteikolla 0–100 (piste jokaiselta viikolta, jolla on vähintään 30 vastausta)
trend-month = Koko työtilan kokemusindeksi, NPS, CSAT ja CES kuukausittain samalla asteikolla 0–100 (piste jokaiselta kuukaudelta, jolla on vähintään 30 vastausta)
group-trend-day = Ryhmän kokemusindeksi, NPS, CSAT ja CES päivittäin samalla asteikolla 0–100
group-trend-week = Ryhmän kokemusindeksi, NPS, CSAT ja CES viikoittain samalla asteikolla 0–100
group-trend-month = Ryhmän kokemusindeksi, NPS, CSAT ja CES kuukausittain samalla asteikolla 0–100
grain-label = Kehitys
grain-day = päivä
grain-week = viikko
grain-month = kuukausi

suspicion-too-fast = lähetetty nopeammin kuin ihminen yleensä ehtii
suspicion-stale-form = sivu oli auki yli vuorokauden
suspicion-no-form-token = lähetetty ilman kyselysivua
suspicion-honeypot = ihmisiltä piilotettu kenttä oli täytetty
suspect-badge = Erotettu
response-suspect = Erotettu, koska
response-suspect-help = Robottitarkistus erotti tämän vastauksen: se on tallessa, mutta sitä ei lasketa mihinkään tulokseen. Jos vastaaja oli ihminen, ota vastaus mukaan.
response-accept = Laske vastaus mukaan
responses-suspect-total = { $count ->
    [one] Yksi vastaus on erotettu mahdollisesti automaattisena eikä sitä lasketa.
   *[other] { $count } vastausta on erotettu mahdollisesti automaattisina eikä niitä lasketa.
}
filter-counting = Laskenta
filter-counted = Lasketaan tuloksiin
filter-suspect = Erotetut
channel-qr = QR-koodi
channel-widget = Upotettu kysely
channel-sms = Tekstiviesti
channel-kiosk = Kioski

index-name = Kokemusindeksi
index-help = Kokemusindeksi asettaa jokaisen kosketuspisteen samalle asteikolle 0–100 mittarista riippumatta: NPS asteikolta −100…100, CSAT tyytyväisten osuutena, CES asteikolta 1…7. Heikoin kohtaaminen on kosketuspiste, jonka indeksi on merkitsevästi alempi kuin minkään muun saman asiakasmatkan kosketuspisteen.
index-from = mittarista { $metric }
trend-as-table = Luvut taulukkona
trend-period = Jakso
dashboard-tied = jaetulla heikoimmalla sijalla
group-weakest-tied = Mikään kosketuspiste ei ole merkitsevästi heikoin; heikoimmasta kohtaamisesta ovat tasoissa: { $names }
map-weakest = ▼ Heikoin kohtaaminen
map-tied = Tasoissa heikoimmasta
map-open-touchpoint = { $name }: avaa tulokset
emotion-expected = odotettu
emotion-measured = mitattu (indeksi)
home-overview = Miten asiakkaat kokevat meidät
home-responses = { $count ->
    [one] yksi vastaus
   *[other] { $count } vastausta
}
home-previous = { $period }
home-up = parempi
home-down = heikompi
home-trend-caption = Kokemusindeksi kuukausittain viimeisen vuoden ajalta sekä NPS, CSAT ja CES samalla asteikolla 0–100
home-weakest = Jokaisen asiakasmatkan heikoin kohtaaminen
home-weakest-col = Heikoin kohtaaminen
home-owner = Omistaja
home-tied = Mikään kosketuspiste ei ole merkitsevästi heikoin; tasoissa:
home-unknown = { $count ->
    [0] Yhdelläkään kosketuspisteellä ei ole tarpeeksi vastauksia vertailuun.
    [one] Vain yhdellä kosketuspisteellä on tarpeeksi vastauksia: ei vertailtavaa.
   *[other] Vastauksia ei ole tarpeeksi vertailuun.
}
home-moved = Mikä muuttui merkitsevästi
home-moved-none = Minkään kosketuspisteen indeksi ei muuttunut merkitsevästi edellisestä 90 päivästä.
home-alerts = { $count ->
    [0] Ei tulosvaroituksia viimeisen 30 päivän aikana
    [one] Yksi tulosvaroitus viimeisen 30 päivän aikana
   *[other] { $count } tulosvaroitusta viimeisen 30 päivän aikana
}
home-knowing = Kuinka hyvin tunnemme asiakkaamme
home-reaching = { $reaching }/{ $units } yksiköstä ({ $share } %) on asiakasketju, joka ulottuu loppuasiakkaaseen.
home-reaching-help = Yksikön ketju ulottuu loppuasiakkaaseen, kun sen vastaukset kysymykseen ”kuka on asiakkaani” johtavat palveltujen sisäisten asiakkaiden kautta ulkoiseen asiakassegmenttiin. Yksiköt, joilla ketjua ei ole, ovat niitä, joilta asiakasymmärrys useimmin puuttuu.
home-overdue = { $count ->
    [0] Yksikään vastaus kysymykseen ”kuka on asiakkaani” ei odota myöhässä olevaa tarkistusta
    [one] Yksi vastaus kysymykseen ”kuka on asiakkaani” on tarkistamatta määräajasta
   *[other] { $count } vastausta kysymykseen ”kuka on asiakkaani” on tarkistamatta määräajasta
}
journey-glance = Koko asiakasmatka yhdellä silmäyksellä
journey-detail = Asiakasmatkan kartta tarkemmin
journey-fit = Sovita sivun leveyteen
journey-actual-size = Todellinen koko
emotion-level-0 = hyvin kielteinen
emotion-level-1 = kielteinen
emotion-level-2 = neutraali
emotion-level-3 = myönteinen
emotion-level-4 = hyvin myönteinen
