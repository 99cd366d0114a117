"""A small gazetteer for name redaction: common first names and surnames in the
Netherlands (Dutch, Moroccan, Turkish, Surinamese …) and in English, the tussenvoegsels,
and the words that end a name after a cue ("ik heet Jan en ik bel over …")."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FIRST_NAMES = _words("""
jan piet kees henk willem johan hans peter pieter gerrit cor wim theo frank paul erik eric
jeroen marco martin marcel michel richard robert ruud rob ron sander bas tim tom thomas daan
sem lucas levi finn milan noah liam luuk jesse thijs bram lars stijn ruben joost koen niels
mark dennis jasper arjen arjan bart dirk gert harm hendrik jacob jaap jeroen joris kevin
maarten mike nick patrick rick roy sjoerd teun vincent wouter yannick youssef mohammed
mohamed ahmed ali mustafa hassan omar ibrahim mehmet murat emre hakan kemal ayoub bilal
anna emma julia sophie sara sarah lisa eva lotte fleur iris anouk femke sanne lieke noa
mila tess zoë zoe nina maud isa roos esther marieke ingrid annemarie petra monique sandra
linda karin wilma ria truus ans annie gerda joke els mieke anja marja margriet hanneke
jolanda miranda yvonne ellen saskia marloes manon naomi fatima khadija aicha aisha samira
yasmina zeynep elif ayse fatma emine hatice meryem
john james robert michael william david richard joseph charles thomas christopher daniel
matthew anthony donald steven paul andrew joshua kenneth george edward brian ronald
timothy jason jeffrey ryan gary nicholas eric stephen jonathan larry justin scott brandon
oliver harry jack charlie george alfie freddie archie leo oscar henry
mary patricia jennifer linda elizabeth barbara susan jessica margaret karen nancy lisa
betty helen sandra donna carol ruth sharon michelle laura emily kimberly deborah
amy angela melissa rebecca stephanie olivia amelia isla ava mia sophia charlotte lily
chloe ella grace emma hannah lucy
""")

SURNAMES = _words("""
jansen janssen jong vries bakker visser smit meijer meyer boer mulder groot bos vos peters
hendriks dekker brouwer wit dijk berg vermeulen kok jacobs haan vermeer heuvel veen broek
bruin schouten beek willems leeuwen vliet dam kuipers wijk graaf koster prins huisman
pronk maas verhoeven kramer postma hoekstra koning bosch wouters timmermans sanders vink
schipper evers blom kuiper peeters claes martens maes goossens hermans verbeek
lammers hoogendoorn zwart molenaar steenbergen wolters laan stam kaya yilmaz demir sahin
celik yildiz aydin ozturk arslan dogan bouzid el amrani benali tahiri ziani boukhari
smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson
thompson wright walker white edwards hughes green hall lewis harris clarke patel jackson
wood turner martin cooper hill ward morris moore clark lee king baker harrison morgan
allen james scott phillips watson davis parker price bennett young griffiths mitchell
kelly cook carter richardson bailey collins bell shaw murphy miller cox richards khan
marshall anderson simpson ellis adams singh begum wilkinson foster chapman powell webb
rogers gray mason ali hunt hussain campbell matthews owen palmer holmes mills barnes
""")

TUSSENVOEGSELS = _words("van de der den het ter ten 't in 'n op t el al la le du da di von")

NAME_STOPWORDS = _words("""
en ik bel heb wil is ben was uit over om voor met maar of dus want als dat die dit wat
hoe waar wanneer waarom wie graag even nog al ook niet geen wel heel erg zeer mijn uw
je jij u we wij zij hij ze het een bij naar tot vanaf sinds vandaag morgen gisteren
hier daar nu toen dan terug omdat vraag vragen bellen gebeld belde over aow toeslag
huurtoeslag zorgtoeslag kinderbijslag pensioen uitkering belasting belastingdienst
gemeente svb uwv duo ja nee nou hallo dag goedemorgen goedemiddag goedenavond alstublieft
dank bedankt
and i am i'm im calling call called about my your the a an of to for from with but or so
because if that this what how where when why who please just also not no yes hello hi
good morning afternoon evening thanks thank today tomorrow yesterday here there now then
on in at is here not on it its it's me we us they he she there's
question questions pension benefit benefits tax allowance ringing phoning
""")
